// runtime error: an uncaught exception when n > 4
import java.io.*;
public class Main {
	public static void main(String[] args) throws IOException {
		String[] t = new String(System.in.readAllBytes()).trim().split("\\s+");
		int n = Integer.parseInt(t[0]);
		if (n > 4) throw new IllegalStateException("too many numbers");
		long s = 0;
		for (int i = 1; i <= n; i++) s += Long.parseLong(t[i]);
		System.out.println(s);
	}
}
