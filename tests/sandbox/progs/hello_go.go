// hello_go: a Go binary reserves a large virtual arena at start; it must
// run under the default 256 MB cell limit (which counts memory, not
// address space) and touch 50 MB without trouble.
package main

import "fmt"

func main() {
	buf := make([]byte, 50<<20)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = byte(i)
	}
	fmt.Println("go ok", len(buf)>>20)
}
