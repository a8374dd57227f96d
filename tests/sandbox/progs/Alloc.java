// Alloc: touches N MB of heap in 1 MB arrays, then prints the total.
// Under a cgroup memory limit smaller than -Xmx the JVM must be OOM-killed
// (memory_limit), and with room it must simply work: no RLIMIT_AS.
public class Alloc {
    public static void main(String[] args) {
        int mb = Integer.parseInt(args[0]);
        byte[][] keep = new byte[mb][];
        long sum = 0;
        for (int i = 0; i < mb; i++) {
            keep[i] = new byte[1 << 20];
            for (int j = 0; j < keep[i].length; j += 4096)
                keep[i][j] = (byte) i;
            sum += keep[i].length;
        }
        System.out.println("allocated " + (sum >> 20) + " MB");
    }
}
