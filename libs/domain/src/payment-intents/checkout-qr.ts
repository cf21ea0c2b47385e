import QRCode from 'qrcode';

/**
 * The checkout link as a QR code, ready to print on a bill: SVG text and a
 * PNG data URL. The `qrcode` package (well kept, no native code) draws it;
 * error correction M survives a creased receipt.
 */
export async function checkoutQr(url: string): Promise<{ svg: string; pngDataUrl: string }> {
  const opts = { errorCorrectionLevel: 'M' as const, margin: 2 };
  const [svg, pngDataUrl] = await Promise.all([QRCode.toString(url, { ...opts, type: 'svg' }), QRCode.toDataURL(url, { ...opts, width: 256 })]);
  return { svg, pngDataUrl };
}
