#!/usr/bin/env node
// `npm start`: install and build what is missing, then run Node-RED with Vigil loaded as
// a user module, the demo flow (examples/demo/*.json) deployed and the bundled
// simulators running. Ctrl-C stops everything.
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');

require('./setup.js').setup();

const env = require('./nodered-env.js');
const port = Number(process.env.PORT || 1880);
const host = process.env.HOST || '127.0.0.1';
const dir = path.join(env.root, '.node-red');

// Deploy the demo unless the user has changed the flows since we last wrote them.
const flows = env.demoFlows();
const flowsText = JSON.stringify(env.splitCredentials(flows).flows, null, 2);
const hashFile = path.join(dir, '.vigil-demo-hash');
const flowFile = path.join(dir, 'flows.json');
const hash = (s) => crypto.createHash('sha256').update(s).digest('hex');
let writeFlows = true;
if (fs.existsSync(flowFile) && fs.existsSync(hashFile)) {
  const onDisk = hash(fs.readFileSync(flowFile, 'utf8'));
  if (onDisk !== fs.readFileSync(hashFile, 'utf8') && onDisk !== hash(flowsText)) {
    writeFlows = false;
    console.log('[vigil] .node-red/flows.json was changed in the editor: keeping it (delete it to get the demo back).');
  }
}
env.prepareUserDir({ dir, port, host, flows: writeFlows ? flows : null });
if (writeFlows) fs.writeFileSync(hashFile, hash(flowsText));

const sims = env.startSims({ editorPort: port });
const red = env.startNodeRed({ dir, port, log: (s) => console.log(s) });

let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  console.log('[vigil] stopping Node-RED and the simulators…');
  await red.stop();
  await sims.stop();
  process.exit(code);
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
red.child.on('exit', (code) => stop(code === null ? 1 : code));

red.ready.then(
  () => {
    const shown = host === '0.0.0.0' ? '127.0.0.1' : host;
    console.log('');
    console.log(`[vigil] Node-RED is running with Vigil and the demo flow: open http://${shown}:${port}`);
    console.log('[vigil] Press Ctrl-C to stop.');
    console.log('');
  },
  (err) => {
    console.error(`[vigil] ${err.message}`);
    stop(1);
  },
);
