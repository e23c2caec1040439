// node with-env.mjs '{"NAME":"value"}' ARGS...: runs the gpo CLI with ARGS after setting these variables in
// its environment, once node has started: a target gpo launches inherits them (LD_PRELOAD of a demo
// cheat), node itself never loads the library.
Object.assign(process.env, JSON.parse(process.argv[2]));
process.argv.splice(2, 1);
await import('../../bin/gpo.js');
