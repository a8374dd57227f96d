# daemon.py: Python double-fork daemon that ignores SIGHUP and SIGTERM and
# closes its streams; the main process exits 0 at once.
import os, signal, time
if os.fork() == 0:
    os.setsid()
    if os.fork() != 0:
        os._exit(0)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.closerange(0, 256)
    while True:
        time.sleep(0.1)
os.wait()
print("parent done")
