STDOUT.write(STDIN.read)
