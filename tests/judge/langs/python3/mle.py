b = b"x" * (256 << 20)
print(len(b))
