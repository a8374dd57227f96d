# popen_sleep.py: starts `sleep inf` with subprocess.Popen and exits.
import subprocess
subprocess.Popen(["sleep", "inf"], stdin=subprocess.DEVNULL,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                 start_new_session=True)
print("started")
