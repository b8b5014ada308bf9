// KeytabLogin.java CONF_DIR ROLE KEYTAB POD_FQDN EXPECTED_SHORT_NAME
// Hadoop's own security code against a live KDC, with the files bdp rendered for one role:
//   1. core-site.xml + hdfs-site.xml are loaded with Hadoop's Configuration; the role's keys
//      dfs.<ROLE>.kerberos.principal and dfs.<ROLE>.keytab.file must be set, and the keytab key
//      must name the file the keytab init container writes (passed as KEYTAB's file name);
//   2. the principal is expanded the way the daemon does it (SecurityUtil.getServerPrincipal with
//      the pod's FQDN for _HOST) and UserGroupInformation logs in from the keytab (JDK Kerberos,
//      krb5.conf from -Djava.security.krb5.conf);
//   3. its short name through the rendered hadoop.security.auth_to_local is EXPECTED_SHORT_NAME,
//      while a principal of the same service on a foreign host is NOT mapped to it (the rules
//      must name this cluster's principals, not every nn/* of the realm);
//   4. the SPNEGO side: the keytab holds an HTTP/ principal for the pod's FQDN, which is what
//      Hadoop's HTTP servers use when their principal is configured as "*", and it logs in too.
// Prints "ok ..." lines; exits 1 on the first failure.
import java.io.File;
import java.util.Arrays;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.security.HadoopKerberosName;
import org.apache.hadoop.security.SecurityUtil;
import org.apache.hadoop.security.UserGroupInformation;
import org.apache.hadoop.security.authentication.util.KerberosUtil;

public class KeytabLogin {
  static void fail(String m) { System.out.println("FAIL: " + m); System.exit(1); }

  public static void main(String[] a) throws Exception {
    String dir = a[0], role = a[1], keytab = a[2], fqdn = a[3], expected = a[4];
    Configuration conf = new Configuration(false);
    for (String f : new String[] {"core-site.xml", "hdfs-site.xml"}) {
      File x = new File(dir, f);
      if (!x.isFile()) fail(x + " is missing");
      conf.addResource(new Path(x.getAbsolutePath()));
    }
    if (!"kerberos".equals(conf.get("hadoop.security.authentication")))
      fail("hadoop.security.authentication is " + conf.get("hadoop.security.authentication") + ", not kerberos");
    String pattern = conf.get("dfs." + role + ".kerberos.principal");
    String ktConf = conf.get("dfs." + role + ".keytab.file");
    if (pattern == null || ktConf == null) fail("dfs." + role + ".kerberos.principal / .keytab.file not set");
    if (!new File(ktConf).getName().equals(new File(keytab).getName()))
      fail("dfs." + role + ".keytab.file is " + ktConf + " but the init container writes " + keytab);
    String principal = SecurityUtil.getServerPrincipal(pattern, fqdn);
    UserGroupInformation.setConfiguration(conf);
    UserGroupInformation u;
    try {
      u = UserGroupInformation.loginUserFromKeytabAndReturnUGI(principal, keytab);
    } catch (Exception e) {
      Throwable c = e; while (c.getCause() != null) c = c.getCause();
      fail("UGI login " + principal + ": " + e + " / " + c); return;
    }
    if (!u.hasKerberosCredentials()) fail(principal + ": no Kerberos credentials after login");
    if (!expected.equals(u.getShortUserName()))
      fail(principal + " maps to '" + u.getShortUserName() + "', expected '" + expected + "'");
    System.out.printf("ok UGI keytab login %s (dfs.%s.kerberos.principal = %s) -> short name %s%n",
        principal, role, pattern, u.getShortUserName());

    String primary = principal.substring(0, principal.indexOf('/'));
    String realm = principal.substring(principal.indexOf('@') + 1);
    String foreign = primary + "/intruder.example.org@" + realm;
    String mapped;
    try { mapped = new HadoopKerberosName(foreign).getShortName(); } catch (Exception e) { mapped = "(no rule: " + e.getMessage() + ")"; }
    if (expected.equals(mapped)) fail(foreign + " also maps to '" + expected + "': auth_to_local is too broad");
    System.out.printf("ok %s is not mapped to %s (-> %s)%n", foreign, expected, mapped);

    String[] http = KerberosUtil.getPrincipalNames(keytab, Pattern.compile("HTTP/.*"));
    String want = "HTTP/" + fqdn.toLowerCase() + "@" + realm;
    if (!Arrays.asList(http).contains(want)) fail("keytab HTTP principals " + Arrays.toString(http) + " lack " + want);
    UserGroupInformation h = UserGroupInformation.loginUserFromKeytabAndReturnUGI(want, keytab);
    if (!h.hasKerberosCredentials()) fail(want + ": no Kerberos credentials after login");
    System.out.printf("ok SPNEGO principal %s in the keytab logs in%n", want);
  }
}
