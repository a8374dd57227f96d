# memfd.py MB: memfd_create and write MB megabytes into it (anonymous shmem,
# charged to the cell): must end as memory_limit.
import os, sys
mb = int(sys.argv[1]) if len(sys.argv) > 1 else 128
fd = os.memfd_create("hostile")
chunk = b"m" * (1 << 20)
for i in range(mb):
    os.write(fd, chunk)
print("wrote", mb)
