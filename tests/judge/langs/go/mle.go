package main

import "fmt"

func main() {
	b := make([]byte, 256<<20)
	for i := range b {
		b[i] = 1
	}
	fmt.Println(b[len(b)-1])
}
