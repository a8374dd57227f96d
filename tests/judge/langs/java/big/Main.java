// allocates and touches 100 MB: must pass under the default memory limit
public class Main {
	public static void main(String[] args) {
		byte[] a = new byte[100 << 20];
		for (int i = 0; i < a.length; i += 4096) a[i] = 1;
		long s = 0;
		for (int i = 0; i < a.length; i += 4096) s += a[i];
		System.out.println(s);
	}
}
