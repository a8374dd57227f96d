fn main() {
    let v = vec![1u8; 256 << 20];
    println!("{}", v[v.len() - 1]);
}
