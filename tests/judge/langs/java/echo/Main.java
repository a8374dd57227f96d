public class Main {
	public static void main(String[] args) throws java.io.IOException {
		System.out.write(System.in.readAllBytes());
		System.out.flush();
	}
}
