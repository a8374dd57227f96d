// wrong answer: sorts the numbers as strings
import java.io.*;
import java.util.*;
public class Main {
	public static void main(String[] args) throws IOException {
		String[] t = new String(System.in.readAllBytes()).trim().split("\\s+");
		int n = Integer.parseInt(t[0]);
		String[] a = Arrays.copyOfRange(t, 1, 1 + n);
		Arrays.sort(a);
		System.out.println(String.join(" ", a));
	}
}
