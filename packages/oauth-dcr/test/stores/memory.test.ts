import { memoryStore } from '../../src/store/memory.js';
import { clientStoreContract } from './contract.js';

clientStoreContract('memory', async () => memoryStore());
