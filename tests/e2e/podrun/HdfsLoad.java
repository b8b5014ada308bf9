// HdfsLoad.java -- the continuous HDFS client of tests/e2e/podrun/hdfs_upgrade.sh: one JVM with one
// FileSystem (the HA client configuration of the Cluster's discovery ConfigMap: nameservice,
// ConfiguredFailoverProxyProvider, its own failover retries) that, until the stop file exists or
// --max-seconds passed, writes a new file of random bytes and reads it back, comparing every
// byte. An operation (write + read back) that throws or reads other bytes is retried after 1 s, at
// most --retries times, as an application would; it counts as failed only when every try failed.
// Every file it wrote and read back is listed (path and SHA-256) in --manifest, so that the
// scenario can tell later which of them survive a rollback.
// Prints one JSON line: {"run", "attempted", "ok", "retried", "failed", "seconds", "errors": [first 5]}.
// With --verify MANIFEST it only reads back every file listed there (path SHA-256 per line) and
// prints "INTACT MISSING-OR-CHANGED", and the paths of the second kind on stderr.
// Run with the JDK's source launcher: java -cp CONF:JARS/* HdfsLoad.java --dir /load --run NAME ...
import java.io.*;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.util.*;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.*;

public class HdfsLoad {
  public static void main(String[] a) throws Exception {
    Map<String, String> o = new HashMap<>(Map.of("--dir", "/load", "--run", "run", "--stop-file", "/nonexistent",
        "--max-seconds", "900", "--size", "65536", "--retries", "3", "--manifest", "/dev/null", "--pause-ms", "500"));
    for (int i = 0; i + 1 < a.length; i += 2) o.put(a[i], a[i + 1]);
    Configuration conf = new Configuration();
    FileSystem fs = FileSystem.get(conf);
    if (o.containsKey("--verify")) {
      int intact = 0, bad = 0;
      for (String line : Files.readAllLines(Paths.get(o.get("--verify")))) {
        String[] f = line.trim().split(" ");
        if (f.length != 2) continue;
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (FSDataInputStream in = fs.open(new Path(f[0]))) {
          byte[] buf = new byte[65536];
          int r;
          while ((r = in.read(buf)) > 0) md.update(buf, 0, r);
          if (hex(md.digest()).equals(f[1])) { intact++; continue; }
          System.err.println(f[0] + ": other bytes");
        } catch (IOException e) {
          System.err.println(f[0] + ": " + String.valueOf(e).split("\n")[0]);
        }
        bad++;
      }
      System.out.println(intact + " " + bad);
      fs.close();
      return;
    }
    Path dir = new Path(o.get("--dir"));
    Random rnd = new Random();
    long t0 = System.nanoTime(), max = Long.parseLong(o.get("--max-seconds")) * 1_000_000_000L;
    int size = Integer.parseInt(o.get("--size")), retries = Integer.parseInt(o.get("--retries"));
    long pause = Long.parseLong(o.get("--pause-ms"));
    int attempted = 0, okc = 0, retried = 0, failed = 0;
    List<String> errors = new ArrayList<>();
    try (PrintWriter man = new PrintWriter(new FileWriter(o.get("--manifest"), true), true)) {
      for (int n = 0; !Files.exists(Paths.get(o.get("--stop-file"))) && System.nanoTime() - t0 < max; n++) {
        attempted++;
        byte[] data = new byte[size];
        rnd.nextBytes(data);
        Path p = new Path(dir, o.get("--run") + "-" + n);
        boolean done = false;
        for (int t = 0; t <= retries && !done; t++) {
          if (t > 0) { retried++; Thread.sleep(1000); }
          try {
            try (FSDataOutputStream out = fs.create(p, true)) { out.write(data); }
            byte[] back = new byte[size + 1];
            int got = 0, r;
            try (FSDataInputStream in = fs.open(p)) {
              while (got < back.length && (r = in.read(back, got, back.length - got)) > 0) got += r;
            }
            if (got != size || !Arrays.equals(Arrays.copyOf(back, size), data))
              throw new IOException("read back " + got + " bytes, not the " + size + " written");
            done = true;
          } catch (Exception e) {
            String m = String.format("%.1fs %s try %d: %s", (System.nanoTime() - t0) / 1e9, p, t + 1,
                String.valueOf(e).split("\n")[0]);
            System.err.println(m);
            if (errors.size() < 5) errors.add(m);
          }
        }
        if (done) {
          okc++;
          man.println(p + " " + hex(MessageDigest.getInstance("SHA-256").digest(data)));
        } else failed++;
        Thread.sleep(pause);
      }
    }
    StringBuilder e = new StringBuilder("[");
    for (String s : errors) e.append(e.length() > 1 ? ", " : "").append('"').append(s.replace("\\", "\\\\").replace("\"", "'")).append('"');
    System.out.printf("{\"run\": \"%s\", \"attempted\": %d, \"ok\": %d, \"retried\": %d, \"failed\": %d, \"seconds\": %.1f, \"errors\": %s]}%n",
        o.get("--run"), attempted, okc, retried, failed, (System.nanoTime() - t0) / 1e9, e);
    fs.close();
  }

  static String hex(byte[] b) {
    StringBuilder s = new StringBuilder();
    for (byte x : b) s.append(String.format("%02x", x));
    return s.toString();
  }
}
