// KrbLogin.java -- Hadoop's UserGroupInformation logs in from a keytab, against a live KDC, with the
// principal pattern rendered in the Hadoop config.
//
// Proves: the rendered core-site.xml/hdfs-site.xml (auth_to_local rules, principal patterns) and a
// krb5.conf (given with -Djava.security.krb5.conf) let the JDK's Kerberos login module, driven by
// Hadoop's own UGI, log in; "_HOST" in the pattern is expanded with HOST by SecurityUtil, and the
// principal maps to a short name. Meant to run under krb.sh -x (which exports KEYTAB and
// JAVA_KRB5_CONF); see hadoop_krblogin.sh.
// Usage: java -cp JARS -Djava.security.krb5.conf=F KrbLogin.java CONF_DIR PRINCIPAL|conf:KEY KEYTAB [HOST]
import java.io.File;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.security.SecurityUtil;
import org.apache.hadoop.security.UserGroupInformation;

public class KrbLogin {
  public static void main(String[] a) throws Exception {
    if (a.length < 3) {
      System.err.println("usage: KrbLogin CONF_DIR PRINCIPAL|conf:KEY KEYTAB [HOST]");
      System.exit(2);
    }
    Configuration conf = new Configuration();
    for (String name : new String[] {"core-site.xml", "hdfs-site.xml"}) {
      File f = new File(a[0], name);
      if (!f.isFile()) {
        System.out.println("FAIL: " + f + " does not exist");
        System.exit(1);
      }
      conf.addResource(new Path(f.getAbsolutePath()));
    }
    conf.set("hadoop.security.authentication", "kerberos");
    String pattern = a[1].startsWith("conf:") ? conf.get(a[1].substring(5)) : a[1];
    if (pattern == null) {
      System.out.println("FAIL: " + a[1].substring(5) + " is not set in " + a[0]);
      System.exit(1);
    }
    String host = a.length > 3 ? a[3] : "localhost";
    String principal = SecurityUtil.getServerPrincipal(pattern, host);
    UserGroupInformation.setConfiguration(conf);
    try {
      UserGroupInformation u = UserGroupInformation.loginUserFromKeytabAndReturnUGI(principal, a[2]);
      System.out.printf("ok  UGI login %s (pattern %s) -> short name '%s', kerberos credentials: %s%n",
          u.getUserName(), pattern, u.getShortUserName(), u.hasKerberosCredentials());
      if (!u.hasKerberosCredentials()) {
        System.out.println("FAIL: logged in without Kerberos credentials");
        System.exit(1);
      }
    } catch (Exception e) {
      Throwable c = e;
      while (c.getCause() != null && c.getCause() != c) c = c.getCause();
      System.out.println("FAIL: UGI login " + principal + ": " + e + " / root cause: " + c);
      System.exit(1);
    }
  }
}
