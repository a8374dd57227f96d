// runtime error: ArrayIndexOutOfBoundsException when n > 4
import java.io.*;
import java.util.*;
public class Main {
	public static void main(String[] args) throws IOException {
		String[] t = new String(System.in.readAllBytes()).trim().split("\\s+");
		int n = Integer.parseInt(t[0]);
		long[] a = new long[4];
		for (int i = 0; i < n; i++) a[i] = Long.parseLong(t[i + 1]);
		long[] b = Arrays.copyOf(a, n);
		Arrays.sort(b);
		StringBuilder sb = new StringBuilder();
		for (int i = 0; i < n; i++) sb.append(i > 0 ? " " : "").append(b[i]);
		System.out.println(sb);
	}
}
