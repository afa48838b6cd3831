// A webhook receiver for tokenq's tests: verifies every delivery with the
// Standard Webhooks library and records it. Paths choose the behaviour:
// /ok/NAME answers 204, /fail-first/NAME answers 500 to the first attempt of
// each message, /hang/NAME never answers. GET /_log returns the records.
//   node receiver.js PORT SECRET      (prints "listening PORT")
const http = require("http");
const { Webhook } = require("standardwebhooks");

const [port, secret] = [Number(process.argv[2] || 0), process.argv[3]];
const wh = new Webhook(secret);
const log = [];
const seen = new Set();

const server = http.createServer((req, res) => {
  if (req.method === "GET" && req.url === "/_log") {
    res.writeHead(200, { "content-type": "application/json" });
    return res.end(JSON.stringify(log));
  }
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    let verified = true;
    try {
      wh.verify(body, req.headers);
    } catch (e) {
      verified = false;
    }
    const id = req.headers["webhook-id"];
    log.push({ path: req.url, id, verified, body, at: Date.now() });
    if (req.url.startsWith("/hang/")) return; // never answers
    if (!verified) { res.writeHead(400); return res.end("bad signature"); }
    if (req.url.startsWith("/fail-first/") && !seen.has(id)) {
      seen.add(id);
      res.writeHead(500);
      return res.end("try again");
    }
    res.writeHead(204);
    res.end();
  });
});
server.listen(port, "127.0.0.1", () => console.log("listening " + server.address().port));
