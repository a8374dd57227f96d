s = "a" * (256 * 1024 * 1024); puts s.bytesize
