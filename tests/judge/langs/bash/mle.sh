x=$(head -c 268435456 /dev/zero | tr "\\0" a)
echo ${#x}
