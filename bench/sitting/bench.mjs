// node bench.mjs FILE PP TG REPS THREADS [DEPTH]  -- llama-bench-like pp/tg timing through node-llama-cpp (CPU only);
// DEPTH > 0 fills the KV cache with that many tokens (untimed) before each test, as llama-bench -d does
import {getLlama} from "node-llama-cpp";
const [file, pp, tg, reps, threads, depth] = [process.argv[2], +process.argv[3], +process.argv[4], +process.argv[5], +process.argv[6], +(process.argv[7] || 0)];
const llama = await getLlama({gpu: false, maxThreads: threads, logLevel: "error"});
const model = await llama.loadModel({modelPath: file, gpuLayers: 0, useMmap: true});
const ctx = await model.createContext({contextSize: Math.max(1024, depth + pp + tg + 64), batchSize: 512, threads: {ideal: threads, min: threads}, sequences: 1});
const seq = ctx.getSequence();
const vocab = 1000;
const rnd = (n) => Array.from({length: n}, (_, i) => 100 + ((i * 7919) % vocab));
async function fill() {
  await seq.clearHistory();
  if (depth > 0) await seq.evaluateWithoutGeneratingNewTokens(rnd(depth));
}
async function runPP(n) {
  await fill();
  const toks = rnd(n);
  const t = performance.now();
  await seq.controlledEvaluate(toks.map((tk, i) => i === n - 1 ? [tk, {generateNext: {token: true}}] : tk));
  return n / ((performance.now() - t) / 1000);
}
async function runTG(n) {
  await fill();
  let count = 0;
  const t = performance.now();
  // one token per step, logits + greedy pick each step
  for await (const tk of seq.evaluate([100], {temperature: 0})) { if (++count >= n) break; }
  return n / ((performance.now() - t) / 1000);
}
const stats = (a) => { const m = a.reduce((x, y) => x + y, 0) / a.length; const s = Math.sqrt(a.reduce((x, y) => x + (y - m) ** 2, 0) / Math.max(1, a.length - 1));
  const so = [...a].sort((x, y) => x - y); return {mean: +m.toFixed(2), std: +s.toFixed(2), min: +so[0].toFixed(2), median: +so[so.length >> 1].toFixed(2), max: +so[so.length - 1].toFixed(2)}; };
const out = {model: file, engine: "llama.cpp (node-llama-cpp 3.22.1)", threads, results: []};
if (pp > 0) { await runPP(Math.min(pp, 16)); const r = []; for (let i = 0; i < reps; i++) r.push(await runPP(pp)); out.results.push({test: "pp" + pp + (depth ? " @ d" + depth : ""), tokens_per_second: stats(r)}); }
if (tg > 0) { await runTG(4); const r = []; for (let i = 0; i < reps; i++) r.push(await runTG(tg)); out.results.push({test: "tg" + tg + (depth ? " @ d" + depth : ""), tokens_per_second: stats(r)}); }
console.log(JSON.stringify(out));
await ctx.dispose(); await model.dispose(); await llama.dispose();
