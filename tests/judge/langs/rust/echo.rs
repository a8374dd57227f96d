use std::io::{Read, Write};
fn main() {
    let mut s = Vec::new();
    std::io::stdin().read_to_end(&mut s).unwrap();
    std::io::stdout().write_all(&s).unwrap();
}
