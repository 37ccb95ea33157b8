# Generates files/access.log: ordinary traffic plus one client leaking the flag piece by piece (run once).
import os, random, urllib.parse, datetime
FLAG = "flag{one_request_at_a_time_ac7e7b46976bf990}"
rng = random.Random(4711)
pages = ["/", "/index.html", "/about", "/products", "/products/widget-a", "/products/widget-b", "/contact",
         "/blog", "/blog/2024/03/spring-sale", "/blog/2024/02/new-office", "/static/css/site.css",
         "/static/js/app.js", "/images/logo.png", "/images/banner.jpg", "/favicon.ico", "/search?q=widget",
         "/search?q=price+list", "/search?q=delivery", "/cart", "/login"]
agents = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0 Safari/537.36",
          "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_3) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Safari/605.1.15",
          "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
          "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"]
ips = [f"{rng.randrange(11, 223)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}" for _ in range(40)]
evil = "185.220.101.47"
t = datetime.datetime(2024, 3, 18, 6, 0, 0)
pieces = [FLAG[i:i + 4] for i in range(0, len(FLAG), 4)]
lines, k = [], 0
for n in range(700):
    t += datetime.timedelta(seconds=rng.randrange(1, 40))
    if n >= 300 and n % 13 == 0 and k < len(pieces):
        q = urllib.parse.quote(pieces[k], safe="")
        req, ip, ua, st, sz = f"/search?q={q}&page={k + 1}", evil, "python-requests/2.31.0", 200, 1893
        k += 1
    else:
        ip, ua = rng.choice(ips), rng.choice(agents)
        req = rng.choice(pages)
        st = rng.choices([200, 304, 404], [85, 10, 5])[0]
        sz = 0 if st == 304 else rng.randrange(300, 40000)
    lines.append(f'{ip} - - [{t:%d/%b/%Y:%H:%M:%S} +0000] "GET {req} HTTP/1.1" {st} {sz} "-" "{ua}"')
assert k == len(pieces)
d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "files")
open(os.path.join(d, "access.log"), "w").write("\n".join(lines) + "\n")
