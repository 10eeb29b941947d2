// node logits.mjs REQUEST.json -- for LlamaCppAgreementTest: llama.cpp (node-llama-cpp, CPU) reads a GGUF this project
// wrote and prints, as one JSON object, its raw logits after every prefix of the request's ids and its tokenization
// of each of the request's texts (no special tokens, no BOS). REQUEST: {"model": PATH, "ids": [..], "texts": [..]}.
import {readFileSync} from "node:fs";
import {getLlama} from "node-llama-cpp";

const request = JSON.parse(readFileSync(process.argv[2], "utf8"));
const llama = await getLlama({gpu: false, maxThreads: 2, logLevel: "error"});
const model = await llama.loadModel({modelPath: request.model, gpuLayers: 0});
const context = await model.createContext({contextSize: 512, batchSize: 512, threads: {ideal: 2, min: 1}, sequences: 1});
const results = await context.getSequence().controlledEvaluate(request.ids.map(t => [t, {generateNext: {logits: true}}]));
const logits = results.map(r => {
  const row = new Array(r.next.logits.size);
  for (const [token, logit] of r.next.logits) row[token] = logit;
  return row;
});
const tokens = (request.texts || []).map(text => Array.from(model.tokenize(text, false)));
console.log(JSON.stringify({logits, tokens}));
await context.dispose();
await model.dispose();
await llama.dispose();
