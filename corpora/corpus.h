// corpus.h — corpora as train/valid/test lists of normalised segments, and where to find them.
//
//   "shakespeare"  Tiny Shakespeare (tinyshakespeare/input.txt): non-empty lines; split in blocks
//                  of 20 lines, 18 to train, the 19th to valid, the 20th to test (90/5/5).
//   "ptb"          Penn Treebank LM text (ptb/ptb.{train,valid,test}.txt): a sentence per segment.
//   "wsj:PATH"     the LDC WSJ text (licensed, never required): every file under PATH; SGML lines
//                  (starting '<') and trailing utterance ids "(...)" are removed; split 90/5/5.
//   any FILE       plain text, a segment per non-empty line, split 90/5/5 like Shakespeare.
//   "A+B"          a mixture (e.g. shakespeare+ptb): every split is A's segments, then B's;
//                  Corpus::parts says which segments came from which (a domain-λ model needs it).
// Segments that normalise to nothing are dropped; segments longer than kMaxSegment symbols are cut
// into pieces of at most that length.
//
// Files are looked up in $MEMSIG_CORPORA, else in ~/.cache/memsig/corpora; a missing file is
// downloaded there from its public address with curl when online.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "corpora/batches.h"
#include "corpora/symbols.h"

namespace memsig {

constexpr size_t kMaxSegment = 1000;

// One corpus of a mixture and how many segments it gives each split.
struct CorpusPart {
  std::string name;
  size_t train = 0, valid = 0, test = 0;
  size_t count(const std::string& split) const;
};

struct Corpus {
  std::string name;
  std::vector<Segment> train, valid, test;
  const std::vector<Segment>& split(const std::string& which) const;  // "train" | "valid" | "test"
  // A mixture's corpora in order (each split is their segments one after another); empty for a
  // single corpus, whose one part is itself (parts_or_self()).
  std::vector<CorpusPart> parts;
  std::vector<CorpusPart> parts_or_self() const;
  int part_of(const std::string& split, size_t index) const;                  // index into parts_or_self()
  std::vector<Segment> part_split(int part, const std::string& split) const;  // that part's segments of the split
  // Speech: the segments are transcripts and batches carry their frames (null for text corpora).
  std::shared_ptr<const BatchFeatureSource> features;
};

std::string corpora_dir();
std::vector<std::string> corpus_files(const std::string& spec);  // the files a spec reads (for the output rule)
Corpus load_corpus(const std::string& spec);
// Three explicit files, one per split (a segment per line).
Corpus load_split_files(const std::string& train, const std::string& valid, const std::string& test);
std::vector<Segment> read_segments(const std::string& path, bool ptb_tokens = false);
int64_t count_symbols(const std::vector<Segment>& segs);  // targets under the protocol: sum (n + 1)
// Content digests (64-bit FNV-1a as 16 hex digits): what cached and resumed results are keyed by,
// so that two corpora with the same name but other text never share a result.
std::string segments_digest(const std::vector<Segment>& segs);
std::string corpus_digest(const Corpus& c);  // train, valid and test

}  // namespace memsig
