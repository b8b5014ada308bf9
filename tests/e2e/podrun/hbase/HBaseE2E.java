// The client of tests/e2e/podrun/hbase.sh: HBase's Java client (hbase-client 2.6.1, the jars of
// podrun's hbase profile), run in a regionserver pod with the pod's rendered hbase-site.xml.
//   create TABLE               create TABLE with family f unless it exists (DDL: needs the active master)
//   put TABLE FROM N           put rows FROM..FROM+N-1 (value "v<i>")
//   get TABLE FROM N           get them and compare the value
//   count TABLE                count the rows (a full scan)
//   zk                         ZooKeeper's view (hbase.zookeeper.quorum, zookeeper.znode.parent of
//                              the pod's hbase-site.xml): prints "zk ACTIVE BACKUP,..." - the
//                              master pod named in <parent>/master and the children of
//                              <parent>/backup-masters ("-" for none)
// Each row is one operation; a failed one is counted, not fatal. Prints "<op> ok=X failed=Y <ms>ms"
// and exits 1 when any failed.
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hbase.HBaseConfiguration;
import org.apache.hadoop.hbase.TableName;
import org.apache.hadoop.hbase.client.Admin;
import org.apache.hadoop.hbase.client.ColumnFamilyDescriptorBuilder;
import org.apache.hadoop.hbase.client.Connection;
import org.apache.hadoop.hbase.client.ConnectionFactory;
import org.apache.hadoop.hbase.client.Get;
import org.apache.hadoop.hbase.client.Put;
import org.apache.hadoop.hbase.client.Result;
import org.apache.hadoop.hbase.client.ResultScanner;
import org.apache.hadoop.hbase.client.Scan;
import org.apache.hadoop.hbase.client.Table;
import org.apache.hadoop.hbase.client.TableDescriptorBuilder;
import org.apache.hadoop.hbase.util.Bytes;

public class HBaseE2E {
  static final byte[] F = Bytes.toBytes("f"), Q = Bytes.toBytes("q");

  public static void main(String[] a) throws Exception {
    Configuration conf = HBaseConfiguration.create();
    // a bounded wait per operation (the defaults retry for minutes)
    conf.setInt("hbase.client.retries.number", 10);
    conf.setInt("hbase.client.pause", 500);
    conf.setInt("hbase.client.operation.timeout", 60000);
    conf.setInt("hbase.rpc.timeout", 20000);
    String op = a[0];
    if (op.equals("zk")) {
      zk(conf);
      return;
    }
    TableName t = TableName.valueOf(a[1]);
    long t0 = System.currentTimeMillis();
    int ok = 0, failed = 0;
    try (Connection c = ConnectionFactory.createConnection(conf)) {
      if (op.equals("create")) {
        try (Admin ad = c.getAdmin()) {
          if (!ad.tableExists(t)) {
            ad.createTable(TableDescriptorBuilder.newBuilder(t).setColumnFamily(ColumnFamilyDescriptorBuilder.of(F)).build());
          }
          ok = ad.tableExists(t) && ad.isTableAvailable(t) ? 1 : 0;
          failed = 1 - ok;
        }
      } else if (op.equals("count")) {
        try (Table tb = c.getTable(t); ResultScanner rs = tb.getScanner(new Scan())) {
          for (Result r : rs) ok++;
        }
      } else {
        int from = Integer.parseInt(a[2]), n = Integer.parseInt(a[3]);
        try (Table tb = c.getTable(t)) {
          for (int i = from; i < from + n; i++) {
            byte[] row = Bytes.toBytes(String.format("row%08d", i));
            String v = "v" + i;
            try {
              if (op.equals("put")) {
                tb.put(new Put(row).addColumn(F, Q, Bytes.toBytes(v)));
                ok++;
              } else {
                byte[] got = tb.get(new Get(row)).getValue(F, Q);
                if (got != null && Bytes.toString(got).equals(v)) ok++;
                else { failed++; if (failed <= 3) System.err.println("row " + i + ": got " + (got == null ? "nothing" : Bytes.toString(got))); }
              }
            } catch (IOException e) {
              failed++;
              if (failed <= 3) System.err.println("row " + i + ": " + e);
            }
          }
        }
      }
    }
    System.out.println(op + " ok=" + ok + " failed=" + failed + " " + (System.currentTimeMillis() - t0) + "ms");
    System.exit(failed == 0 ? 0 : 1);
  }

  static String pod(String serverName) {
    Matcher m = Pattern.compile("([a-z0-9-]+-hbase-master-[0-9]+)\\.").matcher(serverName);
    return m.find() ? m.group(1) : "?";
  }

  static void zk(Configuration conf) throws Exception {
    String parent = conf.get("zookeeper.znode.parent");
    org.apache.zookeeper.ZooKeeper z = new org.apache.zookeeper.ZooKeeper(conf.get("hbase.zookeeper.quorum"), 10000, e -> {});
    try {
      for (int i = 0; i < 100 && !z.getState().isConnected(); i++) Thread.sleep(100);
      String active;
      try {
        // a ServerName after HBase's magic byte, length and PBUF prefix: the host is readable text
        active = pod(new String(z.getData(parent + "/master", false, null), StandardCharsets.ISO_8859_1));
      } catch (org.apache.zookeeper.KeeperException.NoNodeException e) {
        active = "none";
      }
      List<String> backups = new ArrayList<>();
      try {
        for (String c : z.getChildren(parent + "/backup-masters", false)) backups.add(pod(c));
      } catch (org.apache.zookeeper.KeeperException.NoNodeException e) {
        // none yet
      }
      Collections.sort(backups);
      System.out.println("zk " + active + " " + (backups.isEmpty() ? "-" : String.join(",", backups)));
    } finally {
      z.close();
    }
  }
}
