// Check.java -- Hadoop's own Configuration loads the rendered core-site.xml + hdfs-site.xml, and
// Hadoop's client code resolves every HA nameservice to its namenodes' RPC addresses.
//
// Proves, with the real org.apache.hadoop classes (hadoop-client-api/-runtime jars), that:
//   * both files exist and parse (Configuration parses lazily and silently skips a missing file,
//     so both are checked explicitly and the parse is forced);
//   * each nameservice in dfs.nameservices lists >= 2 namenodes, each with an rpc-address and a
//     port (DFSUtilClient.getHaNnRpcAddresses), and a failover proxy provider class that loads;
//   * an hdfs:// fs.defaultFS names a configured nameservice (a logical HA URI);
//   * dfs.namenode.shared.edits.dir, if set, is a qjournal:// URI.
// Several directories are checked in one JVM (a JVM start plus the in-memory compile costs ~2 s).
// Run (Java 17+ single-file source launch, no javac step):
//   java -cp "$JARS/hadoop-client-api-*.jar:$JARS/hadoop-client-runtime-*.jar:$JARS/slf4j-api-*.jar" \
//        Check.java [--key KEY]... CONF_DIR...   (--key: also print KEY as Hadoop resolves it)
// Prints "ok   DIR" or "FAIL DIR: reason" per directory; exit 0 and PASS if all pass, else 1 and FAIL.
import java.io.File;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.hdfs.DFSUtilClient;
import org.apache.hadoop.hdfs.HAUtilClient;

public class Check {
  private static final List<String> problems = new ArrayList<>();

  private static void problem(String m) {
    problems.add(m);
    System.out.println("  problem: " + m);
  }

  private static Throwable root(Throwable t) {
    while (t.getCause() != null && t.getCause() != t) t = t.getCause();
    return t;
  }

  public static void main(String[] args) {
    List<String> dirs = new ArrayList<>();
    List<String> extraKeys = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--key") && i + 1 < args.length) extraKeys.add(args[++i]);
      else dirs.add(args[i]);
    }
    if (dirs.isEmpty()) {
      System.err.println("usage: Check [--key KEY]... CONF_DIR...");
      System.exit(2);
    }
    List<String> failed = new ArrayList<>();
    for (String dir : dirs) {
      System.out.println("== " + dir);
      problems.clear();
      String fatal = check(dir, extraKeys);
      String why = fatal != null ? fatal : problems.isEmpty() ? null : problems.size() + " problem(s): " + problems.get(0);
      System.out.println(why == null ? "ok   " + dir : "FAIL " + dir + ": " + why);
      if (why != null) failed.add(dir + ": " + why);
    }
    if (failed.isEmpty()) System.out.println("PASS: " + dirs.size() + " config dir(s)");
    else System.out.println("FAIL: " + failed.size() + " of " + dirs.size() + " config dir(s):\n  " + String.join("\n  ", failed));
    System.exit(failed.isEmpty() ? 0 : 1);
  }

  /** Checks one directory; returns a reason it could not be checked at all, else null (problems collects the rest). */
  private static String check(String dir, List<String> extraKeys) {
    Configuration conf = new Configuration(true); // with core-default.xml from the jar
    for (String name : new String[] {"core-site.xml", "hdfs-site.xml"}) {
      File f = new File(dir, name);
      if (!f.isFile()) return f + " does not exist";
      conf.addResource(new Path(f.getAbsolutePath()));
    }
    try {
      conf.size(); // forces the lazy parse; malformed XML throws here
    } catch (RuntimeException e) {
      return "Hadoop cannot parse the XML: " + e.getMessage() + " / " + root(e);
    }
    List<String> keys = new ArrayList<>(List.of("fs.defaultFS", "dfs.nameservices", "ha.zookeeper.quorum",
        "hadoop.security.authentication", "dfs.replication", "dfs.namenode.shared.edits.dir",
        "dfs.ha.automatic-failover.enabled"));
    keys.addAll(extraKeys);
    for (String k : keys) System.out.printf("  %s = %s%n", k, conf.get(k));

    Collection<String> nameservices = DFSUtilClient.getNameServiceIds(conf);
    Map<String, Map<String, InetSocketAddress>> rpc = DFSUtilClient.getHaNnRpcAddresses(conf);
    for (String ns : nameservices) {
      Collection<String> nns = DFSUtilClient.getNameNodeIds(conf, ns);
      System.out.printf("  nameservice %s: namenodes %s%n", ns, nns);
      if (nns.size() < 2) problem("dfs.ha.namenodes." + ns + " lists fewer than 2 namenodes");
      Map<String, InetSocketAddress> addrs = rpc.getOrDefault(ns, Map.of());
      for (String nn : nns) {
        InetSocketAddress a = addrs.get(nn);
        if (a == null) {
          problem("dfs.namenode.rpc-address." + ns + "." + nn + " is not set");
          continue;
        }
        System.out.printf("    %s -> %s:%d%n", nn, a.getHostString(), a.getPort());
        if (a.getPort() <= 0) problem(ns + "." + nn + ": rpc-address has no port");
      }
      if (!HAUtilClient.isClientFailoverConfigured(conf, URI.create("hdfs://" + ns))) {
        problem("dfs.client.failover.proxy.provider." + ns + " is not set");
      } else {
        try {
          Class<?> c = conf.getClass("dfs.client.failover.proxy.provider." + ns, null);
          System.out.println("    failover proxy provider " + c.getName());
        } catch (RuntimeException e) {
          problem("dfs.client.failover.proxy.provider." + ns + ": " + root(e));
        }
      }
    }
    URI fs = URI.create(conf.get("fs.defaultFS", "file:///"));
    if ("hdfs".equals(fs.getScheme())) {
      boolean logical = HAUtilClient.isLogicalUri(conf, fs);
      System.out.printf("  fs.defaultFS %s is a logical (HA) URI: %s%n", fs, logical);
      if (!nameservices.isEmpty() && !logical) problem("fs.defaultFS " + fs + " names no configured nameservice");
    }
    String edits = conf.get("dfs.namenode.shared.edits.dir");
    if (edits != null && !edits.startsWith("qjournal://")) problem("dfs.namenode.shared.edits.dir is not qjournal://: " + edits);
    return null;
  }
}
