// @ts-check
/**
 * The cipher suites of docs/protocol.md §2: SRP group and hash, AES key
 * length, packet MAC and tag length.
 * @module
 */

const N1024 =
  'eeaf0ab9adb38dd69c33f80afa8fc5e86072618775ff3c0b9ea2314c9c256576d674df7496ea81d3383b4813d692c6e0e0d5d8e250b98be48e495c1d6089dad15dc7d7b46154d6b6ce8ef4ad69b15d4982559b297bcf1885c529f566660e57ec68edbc3c05726cc02fd4cbf4976eaa9afd5138fe8376435b9fc61d2fc0eb06e3';
const N2048 =
  'ac6bdb41324a9a9bf166de5e1389582faf72b6651987ee07fc3192943db56050a37329cbb4a099ed8193e0757767a13dd52312ab4b03310dcd7f48a9da04fd50e8083969edb767b0cf6095179a163ab3661a05fbd5faaae82918a9962f0b93b855f97993ec975eeaa80d740adbf4ff747359d041d5c33ea71d281e446b14773bca97b43a23fb801676bd207a436c6481f1d2b9078717461a5b9d32e688f87748544523b524b0d57d5ea77a2775d2ecfa032cfbdbf52fb3786160279004e57ae6af874e7303ce53299ccc041c7bc308d82a5698f3a8d0c38271ae35f8e9dbfbb694b5c803d89f7ae435de236d525f54759b65e372fcd68ef20fa7111f9e4aff73';
const N3072 =
  'ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a08798e3404ddef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b0bff5cb6f406b7edee386bfb5a899fa5ae9f24117c4b1fe649286651ece45b3dc2007cb8a163bf0598da48361c55d39a69163fa8fd24cf5f83655d23dca3ad961c62f356208552bb9ed529077096966d670c354e4abc9804f1746c08ca18217c32905e462e36ce3be39e772c180e86039b2783a2ec07a28fb5c55df06f4c52c9de2bcbf6955817183995497cea956ae515d2261898fa051015728e5a8aaac42dad33170d04507a33a85521abdf1cba64ecfb850458dbef0a8aea71575d060c7db3970f85a6e1e4c7abf5ae8cdb0933d71e8c94e04a25619dcee3d2261ad2ee6bf12ffa06d98a0864d87602733ec86a64521f2b18177b200cbbe117577a615d6c770988c0bad946e208e24fa074e5ab3143db5bfce0fd108e4b82d120a93ad2caffffffffffffffff';

/**
 * @typedef {object} Suite
 * @property {number} id
 * @property {string} name
 * @property {'SHA-256' | 'SHA-1'} srpHash
 * @property {number} srpHashLen
 * @property {bigint} N
 * @property {bigint} g
 * @property {number} modulusLen
 * @property {number} keyLen       AES key length (key wrap and packets)
 * @property {'SHA-256' | 'SHA-1'} macHash
 * @property {number} macKeyLen
 * @property {number} tagLen
 */

/** @type {Suite[]} in the default preference order */
export const SUITES = [
  {
    id: 0x01,
    name: 'FH1-SRP3072-SHA256-AES256CTR-HMACSHA256',
    srpHash: 'SHA-256',
    srpHashLen: 32,
    N: BigInt('0x' + N3072),
    g: 5n,
    modulusLen: 384,
    keyLen: 32,
    macHash: 'SHA-256',
    macKeyLen: 32,
    tagLen: 16,
  },
  {
    id: 0x02,
    name: 'FH1-SRP2048-SHA256-AES256CTR-HMACSHA256',
    srpHash: 'SHA-256',
    srpHashLen: 32,
    N: BigInt('0x' + N2048),
    g: 2n,
    modulusLen: 256,
    keyLen: 32,
    macHash: 'SHA-256',
    macKeyLen: 32,
    tagLen: 16,
  },
  {
    id: 0x10,
    name: 'FH1-CLASSIC-SRP1024-SHA1-AES128CTR-HMACSHA1',
    srpHash: 'SHA-1',
    srpHashLen: 20,
    N: BigInt('0x' + N1024),
    g: 2n,
    modulusLen: 128,
    keyLen: 16,
    macHash: 'SHA-1',
    macKeyLen: 20,
    tagLen: 20,
  },
];

/** @param {number} id */
export function suiteById(id) {
  return SUITES.find((s) => s.id === id);
}

/** The default policy: 0x01 then 0x02. */
export const DEFAULT_SUITES = [SUITES[0], SUITES[1]];
/** The default policy with the classic suite enabled. */
export const WITH_CLASSIC = SUITES;
