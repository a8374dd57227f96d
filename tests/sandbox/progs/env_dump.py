# env_dump.py: the environment as Python and a child shell see it.
import os, subprocess
for k in sorted(os.environ):
    print("py %s=%s" % (k, os.environ[k]))
out = subprocess.run(["/bin/sh", "-c", "env"], capture_output=True, text=True).stdout
for line in sorted(out.splitlines()):
    print("sh " + line)
