local s = string.rep("a", 256 * 1024 * 1024); print(#s)
