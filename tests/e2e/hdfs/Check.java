// Check.java -- does Hadoop itself read bdp's rendered HDFS configuration the way the cluster needs?
//
// Loads core-site.xml + hdfs-site.xml of one directory with Hadoop's own
// org.apache.hadoop.conf.Configuration (the hadoop-client-api/-runtime jars) and asks Hadoop's
// client code, not string matching, what the files mean. The expectations come from the caller
// (run.sh derives them from the rendered StatefulSets: pod FQDNs, replicas, container ports), so a
// file that parses but points at the wrong pods, ports or nameservice fails.
//
// Usage (Java 17 single-file launch):
//   java -cp "hadoop-client-api.jar:hadoop-client-runtime.jar:slf4j-api.jar" Check.java CONF_DIR \
//        --namenodes HOST:PORT,...    namenode RPC addresses, in ordinal order (required)
//        [--http HOST:PORT,...]       namenode HTTP addresses, in ordinal order
//        [--journalnodes HOST:PORT,...] journalnodes of the shared edit log (a namenode's own file)
//        [--journal-peers HOST:PORT,...] a journalnode's file: the peers its JournalNodeSyncer must find
//        [--zookeeper HOST:PORT,...]  ZooKeeper servers of the failover controllers, after Hadoop's
//                                     ${env.NAME} expansion (a namenode's own file, HA)
//        [--pod NAME]                 the file is namenode pod NAME's; POD_NAME must be set to NAME
//        [--exclude FILE --exclude-at PATH] the namenode's exclude file (a local copy) and the path
//                                     where its pod mounts it
// Prints one line per assertion ("  ok   ..." / "  FAIL ...: why"), then PASS or FAIL; exit 0 / 1.
import java.io.File;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.*;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.hdfs.DFSUtilClient;
import org.apache.hadoop.hdfs.HAUtilClient;
import org.apache.hadoop.hdfs.NameNodeProxiesClient;
import org.apache.hadoop.hdfs.protocol.ClientProtocol;
import org.apache.hadoop.hdfs.server.namenode.ha.AbstractNNFailoverProxyProvider;
import org.apache.hadoop.io.retry.FailoverProxyProvider;
import org.apache.hadoop.net.NetUtils;
import org.apache.hadoop.util.HostsFileReader;

public class Check {
  static int failures = 0;

  static void ok(String what) { System.out.println("  ok   " + what); }

  static void fail(String what, String why) {
    failures++;
    System.out.println("  FAIL " + what + ": " + why);
  }

  static void expect(boolean cond, String what, String why) {
    if (cond) ok(what); else fail(what, why);
  }

  static String hostPort(InetSocketAddress a) {
    return a == null ? "null" : a.getHostString() + ":" + a.getPort();
  }

  static List<String> list(String csv) {
    List<String> out = new ArrayList<>();
    if (csv == null) return out;
    for (String s : csv.split(",")) if (!s.isBlank()) out.add(s.trim());
    return out;
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: Check CONF_DIR --namenodes HOST:PORT,... [options]");
      System.exit(2);
    }
    File dir = new File(args[0]);
    Map<String, String> opt = new HashMap<>();
    for (int i = 1; i < args.length; i += 2) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) {
        System.err.println("bad argument " + args[i]);
        System.exit(2);
      }
      opt.put(args[i].substring(2), args[i + 1]);
    }
    List<String> nns = list(opt.get("namenodes"));
    if (nns.isEmpty()) {
      System.err.println("--namenodes is required");
      System.exit(2);
    }
    List<String> http = list(opt.get("http"));
    boolean ha = nns.size() > 1;

    // 1. Hadoop's Configuration parses both files (it ignores a missing file, so check first).
    Configuration conf = new Configuration(false);
    for (String f : new String[] {"core-site.xml", "hdfs-site.xml"}) {
      File x = new File(dir, f);
      if (!x.isFile()) {
        fail("file " + f, "missing in " + dir);
        System.out.println("FAIL");
        System.exit(1);
      }
      conf.addResource(new Path(x.getAbsolutePath()));
    }
    try {
      conf.size(); // parsing is lazy: force it
      ok("Configuration parses core-site.xml and hdfs-site.xml (" + conf.size() + " properties)");
    } catch (RuntimeException e) {
      fail("Configuration parses core-site.xml and hdfs-site.xml", String.valueOf(e));
      System.out.println("FAIL");
      System.exit(1);
    }

    String defaultFs = conf.get("fs.defaultFS");
    URI fsUri = defaultFs == null ? null : URI.create(defaultFs);
    Collection<String> nss = DFSUtilClient.getNameServiceIds(conf);

    if (ha) {
      // 2. HA: one logical nameservice, fs.defaultFS names it, each namenode resolves.
      expect(nss.size() == 1, "exactly one nameservice (dfs.nameservices)", "got " + nss);
      String ns = nss.isEmpty() ? "?" : nss.iterator().next();
      expect(fsUri != null && "hdfs".equals(fsUri.getScheme()) && ns.equals(fsUri.getHost())
              && fsUri.getPort() == -1,
          "fs.defaultFS is the logical nameservice hdfs://" + ns, "fs.defaultFS=" + defaultFs);
      expect(fsUri != null && HAUtilClient.isLogicalUri(conf, fsUri),
          "HAUtilClient: fs.defaultFS is a logical (HA) URI", "not logical: " + defaultFs);

      List<String> ids = new ArrayList<>(DFSUtilClient.getNameNodeIds(conf, ns));
      expect(ids.size() == nns.size(), "dfs.ha.namenodes." + ns + " lists " + nns.size() + " namenodes",
          "lists " + ids);
      Map<String, InetSocketAddress> rpc =
          DFSUtilClient.getHaNnRpcAddresses(conf).getOrDefault(ns, Map.of());
      Map<String, InetSocketAddress> web =
          DFSUtilClient.getAddressesForNameserviceId(conf, ns, null, "dfs.namenode.http-address");
      List<String> gotRpc = new ArrayList<>();
      List<String> gotHttp = new ArrayList<>();
      for (String id : ids) {
        gotRpc.add(hostPort(rpc.get(id)));
        gotHttp.add(hostPort(web.get(id)));
      }
      expect(gotRpc.equals(nns), "DFSUtilClient: every namenode id has its pod's RPC address",
          "expected " + nns + ", Hadoop resolved " + gotRpc);
      if (!http.isEmpty())
        expect(gotHttp.equals(http), "every namenode id has its pod's HTTP address",
            "expected " + http + ", Hadoop resolved " + gotHttp);

      // 3. The client failover proxy provider loads and is built by Hadoop's own factory.
      expect(HAUtilClient.isClientFailoverConfigured(conf, fsUri),
          "HAUtilClient: client failover is configured for " + ns,
          "no dfs.client.failover.proxy.provider." + ns);
      try {
        Class<FailoverProxyProvider<ClientProtocol>> cls =
            NameNodeProxiesClient.getFailoverProxyProviderClass(conf, fsUri);
        AbstractNNFailoverProxyProvider<ClientProtocol> provider =
            NameNodeProxiesClient.createFailoverProxyProvider(conf, fsUri, ClientProtocol.class, true, null);
        expect(provider != null && provider.useLogicalURI() && provider.getInterface() == ClientProtocol.class,
            "failover proxy provider " + cls.getName() + " loads and is instantiated for " + fsUri,
            "provider=" + provider);
        NameNodeProxiesClient.ProxyAndInfo<ClientProtocol> p =
            NameNodeProxiesClient.createHAProxy(conf, fsUri, ClientProtocol.class, provider);
        String svc = String.valueOf(p.getDelegationTokenService());
        expect(svc.equals(HAUtilClient.buildTokenServiceForLogicalUri(fsUri, "hdfs").toString()),
            "HA client proxy for " + fsUri + " (token service " + svc + ")", "token service " + svc);
      } catch (Exception | LinkageError e) {
        fail("failover proxy provider loads", String.valueOf(e));
      }
    } else {
      // 2'. One namenode: no nameservice; fs.defaultFS is namenode-0's RPC address.
      expect(nss.isEmpty(), "no nameservice (single namenode)", "dfs.nameservices=" + nss);
      expect(fsUri != null && !HAUtilClient.isLogicalUri(conf, fsUri),
          "fs.defaultFS is a physical namenode URI", "fs.defaultFS=" + defaultFs);
      InetSocketAddress nn = DFSUtilClient.getNNAddress(conf);
      expect(hostPort(nn).equals(nns.get(0)),
          "DFSUtilClient.getNNAddress: fs.defaultFS resolves to namenode-0's RPC address " + nns.get(0),
          "resolved to " + hostPort(nn));
      String rpcKey = conf.getTrimmed("dfs.namenode.rpc-address");
      expect(rpcKey == null || hostPort(NetUtils.createSocketAddr(rpcKey)).equals(nns.get(0)),
          "dfs.namenode.rpc-address agrees with fs.defaultFS", "dfs.namenode.rpc-address=" + rpcKey);
      String web = conf.getTrimmed("dfs.namenode.http-address");
      if (!http.isEmpty())
        expect(web != null && hostPort(NetUtils.createSocketAddr(web)).equals(http.get(0)),
            "dfs.namenode.http-address is namenode-0's HTTP address " + http.get(0), "got " + web);
      expect(conf.get("dfs.namenode.shared.edits.dir") == null && conf.get("ha.zookeeper.quorum") == null,
          "no shared edits and no ZooKeeper without HA", "found HA keys");
    }

    // 4'. A journalnode's file: its JournalNodeSyncer finds its peers in the shared edits URI
    //     (dfs.namenode.shared.edits.dir, read as Hadoop's Configuration gives it).
    String peers = opt.get("journal-peers");
    if (peers != null) {
      String edits = conf.getTrimmed("dfs.namenode.shared.edits.dir");
      List<String> want = list(peers);
      List<String> got = new ArrayList<>();
      try {
        URI u = new URI(edits);
        if ("qjournal".equals(u.getScheme()))
          for (String a : u.getAuthority().split(";")) got.add(hostPort(NetUtils.createSocketAddr(a, 8485)));
      } catch (Exception e) {
        got.add("unparsable: " + edits + ": " + e);
      }
      expect(got.equals(want), "journal sync: the journalnode's shared edits URI lists every journalnode (" + want.size() + ")",
          "expected " + want + ", got " + edits);
    }

    // 4. A namenode pod's own file: its id, the shared journal, ZooKeeper, the exclude file.
    String pod = opt.get("pod");
    if (pod != null) {
      if (!pod.equals(System.getenv("POD_NAME"))) {
        fail("POD_NAME", "run with POD_NAME=" + pod + " (the downward API sets it in the pod)");
      }
      int ordinal = Integer.parseInt(pod.substring(pod.lastIndexOf('-') + 1));
      if (ha) {
        String ns = nss.isEmpty() ? "?" : nss.iterator().next();
        String id = conf.getTrimmed("dfs.ha.namenode.id");
        List<String> ids = new ArrayList<>(DFSUtilClient.getNameNodeIds(conf, ns));
        expect(pod.equals(id) && ids.contains(id),
            "dfs.ha.namenode.id expands (${env.POD_NAME}) to this pod's id " + pod, "got " + id + ", ids " + ids);
        InetSocketAddress own = DFSUtilClient.getHaNnRpcAddresses(conf).getOrDefault(ns, Map.of()).get(id);
        expect(hostPort(own).equals(nns.get(ordinal)),
            "this namenode's own RPC address is its pod FQDN " + nns.get(ordinal), "got " + hostPort(own));
        expect(conf.getBoolean("dfs.ha.automatic-failover.enabled", false),
            "automatic failover is enabled", "dfs.ha.automatic-failover.enabled is not true");
        String fencing = conf.getTrimmed("dfs.ha.fencing.methods", "");
        expect(fencing.equals("shell(/bin/true)"), "fencing method shell(/bin/true)", "got '" + fencing + "'");

        String edits = conf.getTrimmed("dfs.namenode.shared.edits.dir");
        List<String> wantJn = list(opt.get("journalnodes"));
        try {
          URI u = new URI(edits);
          List<String> jns = new ArrayList<>();
          for (String a : u.getAuthority().split(";")) jns.add(hostPort(NetUtils.createSocketAddr(a, 8485)));
          String journal = u.getPath().replaceFirst("^/", "");
          expect("qjournal".equals(u.getScheme()) && jns.equals(wantJn) && journal.equals(ns),
              "shared edits: qjournal:// over every journalnode (" + wantJn.size() + "), journal id " + ns,
              "expected " + wantJn + " journal " + ns + ", got " + edits);
        } catch (Exception e) {
          fail("shared edits dir parses as qjournal://", edits + ": " + e);
        }

        String quorum = conf.getTrimmed("ha.zookeeper.quorum");
        List<String> wantZk = list(opt.get("zookeeper"));
        List<String> zks = new ArrayList<>();
        if (quorum != null && !quorum.contains("${"))
          for (String a : quorum.split(",")) zks.add(hostPort(NetUtils.createSocketAddr(a.trim(), 2181)));
        Collections.sort(zks);
        Collections.sort(wantZk);
        expect(!wantZk.isEmpty() && zks.equals(wantZk),
            "ha.zookeeper.quorum (after ${env.*} expansion) lists the ZooKeeper servers " + wantZk,
            "got " + quorum);
        String parent = conf.getTrimmed("ha.zookeeper.parent-znode", "/hadoop-ha");
        expect(parent.startsWith("/") && !parent.endsWith("/"), "ha.zookeeper.parent-znode is an absolute znode path",
            "got " + parent);
      } else {
        expect(conf.get("dfs.ha.namenode.id") == null, "no namenode id without HA",
            "dfs.ha.namenode.id=" + conf.get("dfs.ha.namenode.id"));
      }
      String nameDir = conf.getTrimmed("dfs.namenode.name.dir", "");
      expect(nameDir.startsWith("file:///") && !nameDir.contains("${"),
          "dfs.namenode.name.dir is an explicit local directory", "got " + nameDir);
      expect(conf.getBoolean("dfs.reformat.disabled", false), "dfs.reformat.disabled=true",
          "reformat is not disabled");
      expect(!conf.getBoolean("dfs.namenode.datanode.registration.ip-hostname-check", true),
          "datanode registration does not need reverse DNS", "ip-hostname-check is on");

      String exclude = conf.getTrimmed("dfs.hosts.exclude");
      String mounted = opt.get("exclude");
      if (mounted == null) {
        fail("dfs.hosts.exclude", "no --exclude file given: the namenode has no exclude file mounted");
      } else {
        String at = opt.get("exclude-at");
        expect(exclude != null && exclude.equals(at),
            "dfs.hosts.exclude is the exclude file where the pod mounts it (" + at + ")",
            "dfs.hosts.exclude=" + exclude);
        try {
          Set<String> hosts = new HashSet<>();
          HostsFileReader.readFileToSet("exclude", mounted, hosts);
          ok("HostsFileReader reads the exclude file (" + hosts.size() + " host(s))");
        } catch (Exception e) {
          fail("HostsFileReader reads the exclude file", String.valueOf(e));
        }
      }
    }

    System.out.println(failures == 0 ? "PASS" : "FAIL: " + failures + " assertion(s) failed");
    System.exit(failures == 0 ? 0 : 1);
  }
}
