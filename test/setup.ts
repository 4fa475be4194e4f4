// Importing the engine module silences tfjs's "install tfjs-node" banner for every test file.
import '../src/engine/backend.js';
