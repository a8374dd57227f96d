// time limit: loops forever when n > 4
import java.io.*;
public class Main {
	public static void main(String[] args) throws IOException {
		String[] t = new String(System.in.readAllBytes()).trim().split("\\s+");
		int n = Integer.parseInt(t[0]);
		double s = 0;
		for (int i = 1; i <= n; i++) s += Double.parseDouble(t[i]);
		while (n > 4) { }
		System.out.println(String.format("%.9f", s / (n)));
	}
}
