# fork_bomb.py: Python fork bomb, swallowing every fork error (Piston fork.py).
import os
while True:
    try:
        os.fork()
    except Exception:
        pass
