// Similarity of identity descriptors (face-embedding vectors computed elsewhere).

/**
 * Cosine similarity of two equally long vectors: a.b / (|a| |b|), in -1..1,
 * accumulated in float64. CSIM is this between the identity embeddings of a
 * source and a rendered face. NaN when either vector is all zeros.
 */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`cosineSimilarity: vectors differ in length (${a.length} vs ${b.length})`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  if (na === 0 || nb === 0) return NaN;
  const c = dot / Math.sqrt(na * nb);
  // Rounding can take |c| a hair past 1 for parallel vectors.
  return c > 1 ? 1 : c < -1 ? -1 : c;
}
