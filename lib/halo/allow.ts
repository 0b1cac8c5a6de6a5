/**
 * Source-address allow list: single IPs and CIDR ranges, IPv4 and IPv6
 * (IPv4-mapped IPv6 addresses such as `::ffff:10.0.0.5` are checked as IPv4).
 */
import net from 'node:net';

export class AllowList {
  private readonly list = new net.BlockList();
  readonly size: number;

  /** `entries`: comma/space/newline separated text or an array; empty = allow everyone. Throws on a bad entry. */
  constructor(entries: string | readonly string[] | undefined) {
    const items = (typeof entries === 'string' ? entries.split(/[\s,;]+/) : (entries ?? [])).map((s) => s.trim()).filter((s) => s.length > 0);
    for (const item of items) {
      const [addr, prefix, extra] = item.split('/');
      const type = net.isIPv4(addr) ? 'ipv4' : net.isIPv6(addr) ? 'ipv6' : undefined;
      if (!type || extra !== undefined) throw new Error(`not an IP address or CIDR range: "${item}"`);
      if (prefix === undefined) this.list.addAddress(addr, type);
      else {
        const bits = Number(prefix);
        const max = type === 'ipv4' ? 32 : 128;
        if (!/^\d+$/.test(prefix) || bits > max) throw new Error(`bad prefix length in "${item}"`);
        this.list.addSubnet(addr, bits, type);
      }
    }
    this.size = items.length;
  }

  /** Is `address` allowed? Everyone is when the list is empty. */
  allows(address: string | undefined): boolean {
    if (this.size === 0) return true;
    if (!address) return false;
    const a = normaliseAddress(address);
    const type = net.isIPv4(a) ? 'ipv4' : net.isIPv6(a) ? 'ipv6' : undefined;
    return type !== undefined && this.list.check(a, type);
  }
}

/** `::ffff:1.2.3.4` → `1.2.3.4`; anything else unchanged. */
export function normaliseAddress(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1] : address;
}

/** `ip:port`, with brackets for IPv6. */
export function remoteString(address: string | undefined, port: number | undefined): string {
  const a = normaliseAddress(address ?? '?');
  return a.includes(':') ? `[${a}]:${port ?? 0}` : `${a}:${port ?? 0}`;
}
