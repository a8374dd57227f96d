public class Main {
	public static void main(String[] args) {
		byte[][] chunks = new byte[256][];
		for (int i = 0; i < 256; i++) {
			chunks[i] = new byte[1 << 20];
			java.util.Arrays.fill(chunks[i], (byte) 1);
		}
		System.out.println(chunks[255][0]);
	}
}
