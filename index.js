// n8n loads this package's nodes and credentials from the paths in package.json's "n8n" block;
// this entry point exists so that `require('n8n-nodes-truv')` resolves.
module.exports = {};
