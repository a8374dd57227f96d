// time limit: permutation sort, n! steps on the 14 numbers of test 05
import java.io.*;
public class Main {
	static int[] p;
	static boolean nextPerm(int n) {
		int i = n - 2;
		while (i >= 0 && p[i] >= p[i + 1]) i--;
		if (i < 0) return false;
		int j = n - 1;
		while (p[j] <= p[i]) j--;
		int t = p[i]; p[i] = p[j]; p[j] = t;
		for (int l = i + 1, r = n - 1; l < r; l++, r--) { t = p[l]; p[l] = p[r]; p[r] = t; }
		return true;
	}
	public static void main(String[] args) throws IOException {
		String[] t = new String(System.in.readAllBytes()).trim().split("\\s+");
		int n = Integer.parseInt(t[0]);
		long[] a = new long[n];
		p = new int[n];
		for (int i = 0; i < n; i++) { a[i] = Long.parseLong(t[i + 1]); p[i] = i; }
		do {
			boolean ok = true;
			for (int i = 0; i + 1 < n; i++) if (a[p[i]] > a[p[i + 1]]) { ok = false; break; }
			if (ok) break;
		} while (nextPerm(n));
		StringBuilder sb = new StringBuilder();
		for (int i = 0; i < n; i++) sb.append(i > 0 ? " " : "").append(a[p[i]]);
		System.out.println(sb);
	}
}
