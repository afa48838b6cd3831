// The same ticket as src/print/escpos.c lays it out, built with the
// reference encoder @point-of-sale/receipt-printer-encoder (version pinned
// in package.json), so the tests can compare the two command by command.
//
//   node reference.mjs TICKET.json [RASTER.json] > bytes
//
// RASTER.json, when given, holds the images tokenq drew for text outside the
// code page ([{"after": "note" | "item:NAME", "width", "height", "rows":
// [hex...]}]); the reference encoder cannot shape text, so it is handed the
// same pixels and only its GS v 0 framing and what surrounds it are
// compared. The token is printed in double size when it fits (as tokenq).
import fs from 'node:fs';
import ReceiptPrinterEncoder from '@point-of-sale/receipt-printer-encoder';

// Node has no ImageData; the encoder only needs width, height and RGBA data.
globalThis.ImageData = class ImageData {
  constructor(width, height) {
    this.width = width;
    this.height = height;
    this.data = new Uint8ClampedArray(width * height * 4);
  }
};

const t = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const images = process.argv[3] ? JSON.parse(fs.readFileSync(process.argv[3], 'utf8')) : [];
const COLUMNS = 48;
const AMOUNT = 12;

const money = (minor) => {
  const d = t.minor_digits ?? 2;
  const neg = minor < 0;
  const v = Math.abs(minor);
  if (d === 0) return (neg ? '-' : '') + v;
  const s = 10 ** d;
  return (neg ? '-' : '') + Math.floor(v / s) + '.' + String(v % s).padStart(d, '0');
};

const options = {
  printerModel: 'citizen-ct-s310ii', // 48 columns of font A, 576 dots
  codepageMapping: 'epson',
  imageMode: 'raster',
  newline: '\n',
  feedBeforeCut: 4,
};
const encoder = new ReceiptPrinterEncoder(options);
// ESC @ goes out on its own: the encoder's line composer would put the first
// line's centring spaces before it, and ESC @ clears them from the printer's
// buffer. Its own line feed is dropped.
const head = new ReceiptPrinterEncoder(options).initialize().encode().slice(0, -1);

const image = (name) => {
  const img = images.find((i) => i.after === name);
  if (!img) return false;
  const data = new ImageData(img.width, img.height);
  img.rows.forEach((hex, y) => {
    for (let x = 0; x < img.width; x++) {
      const on = (parseInt(hex.substr((x >> 3) * 2, 2), 16) >> (7 - (x & 7))) & 1;
      const o = (y * img.width + x) * 4;
      data.data[o] = data.data[o + 1] = data.data[o + 2] = on ? 0 : 255;
      data.data[o + 3] = 255;
    }
  });
  encoder.image(data, img.width, img.height, 'threshold');
  return true;
};

encoder.codepage(t.codepage === 437 ? 'cp437' : 'cp858');
encoder.align('center');
if (t.venue) encoder.bold(true).line(t.venue).bold(false);
if (t.queue) encoder.line(t.queue);
const k = t.token.length * 2 <= COLUMNS ? 2 : 1;
encoder.size(k, k).bold(true).line(t.token).bold(false).size(1, 1);
encoder.align('left');
encoder.line('-'.repeat(COLUMNS));
const cols = [
  {width: COLUMNS - AMOUNT, align: 'left'},
  {width: AMOUNT, align: 'right'},
];
for (const it of t.items) {
  const qty = `${it.quantity} x `;
  if (image('item:' + it.name)) {
    encoder.table(cols, [[qty.trimEnd(), money(it.quantity * it.unit_price)]]);
    continue;
  }
  // The name wraps under itself, one column short of the amount.
  encoder.table(
      [{width: qty.length, align: 'left'}, {width: COLUMNS - AMOUNT - 1 - qty.length, align: 'left'},
        {width: AMOUNT + 1, align: 'right'}],
      [[qty, it.name, money(it.quantity * it.unit_price)]]);
}
encoder.line('-'.repeat(COLUMNS));
encoder.bold(true);
encoder.table(cols, [['TOTAL', (t.currency || 'USD') + ' ' + money(t.total)]]);
encoder.bold(false);
if (t.created) encoder.line(t.created);
if (t.note && !image('note')) encoder.line(t.note);
if (t.qr_url) {
  encoder.newline();
  encoder.align('center').qrcode(t.qr_url, {model: 2, size: 6, errorlevel: 'm'}).align('left');
}
encoder.cut('partial');
process.stdout.write(head);
process.stdout.write(encoder.encode());
