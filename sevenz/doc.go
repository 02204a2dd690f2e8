// Package sevenz writes the 7z archives that carry observation extracts
// (CSV with WKT geometry) to their recipients, and checks them before they
// are staged. It owns the 7z container, the choice and tuning of coders,
// parallel compression, AES encryption of sensitive exports, and
// verification with an independent reader.
//
// # Writing
//
// The API follows archive/zip:
//
//	w, err := sevenz.NewWriter(f, sevenz.Options{Password: pw})
//	fw, err := w.Create(&sevenz.FileHeader{Name: "34/occurrences.csv", Modified: t})
//	io.Copy(fw, rows)
//	fw.Close()   // finishes this file
//	w.Close()    // finishes the archive
//
// Several files may be open at once and written in any interleaving, as the
// extractor does when it streams one query's rows into many partitions.
// Files appear in the archive in Create order, whatever order they are closed
// in. Writer.Close fails with ErrEntryOpen if a file is still open: the
// archive is then abandoned rather than silently truncated.
//
// PackFiles packs files and directories for the `sinp pack` command; Verify
// reads an archive back with github.com/bodgit/sevenzip and checks every
// file's size and CRC32.
//
// # Format
//
// Each non-empty file is one folder (non-solid), so files compress and decrypt
// independently. The header carries pack info (sizes and CRC32 of the packed
// streams), unpack info (coders, sizes), substreams info (CRC32 of each file),
// and files info (UTF-16LE names, modification times, Windows attributes with
// the Unix mode in their high bits, empty files and directories). The header
// is itself LZMA2-compressed (EncodedHeader) and, with a password, encrypted;
// its CRC32 is in the signature header.
//
// # Default codec
//
// LZMA2, level 2 (DefaultLZMA2Level), with this package's own encoder
// (internal/lzma): 8-byte hash buckets of 4 recent positions, greedy parsing
// with one lazy step and repeat-distance checks, match choice by an estimate
// of bits saved. On the platform's CSV it is a third faster than `7zz a
// -mx=1` and 16% smaller, and 1.23x the size of `7zz a -mx=5` at more than
// 40x its speed (figures in README.md). Deflate (klauspost/compress) is 2.5-4
// times faster again but 45-65% bigger than LZMA2 on the same CSV: useful
// only when CPU is the bottleneck. github.com/ulikunitz/xz was not used for
// writing: its encoder runs at 4 MB/s on this CSV, against 45 MB/s per core.
//
// # Parallelism and determinism
//
// Files are cut into blocks of Options.BlockSize bytes (8 MiB by default)
// compressed by Options.Concurrency goroutines (all cores by default), so
// both independent files and a single large file use every core. An LZMA2
// block starts with a dictionary reset and blocks concatenate into one LZMA2
// stream, as 7-Zip's multithreaded LZMA2 does; a Deflate block ends with a
// sync flush and uses the previous block's last 32 KiB as its dictionary.
// Block boundaries depend only on the bytes written, so the archive is
// byte-for-byte the same for the same input and options whatever the
// scheduling. Encrypted archives differ between runs because their salt and
// IVs are random; a fixed Options.Rand makes them reproducible too.
//
// # Streaming and memory
//
// No file is ever held whole in memory. When the output is an
// io.WriteSeeker that can seek (a regular file), packed streams go straight
// to it and the signature header is patched at the end; otherwise (a pipe, a
// network stream) they are spooled to a temporary file in Options.TempDir
// and copied out by Close. A file that is not first in archive order while
// another is still open is spooled to its own temporary file until its turn.
// Temporary files are removed by Close, also when it fails.
//
// Memory is bounded by about (open files + 4 × Concurrency) × BlockSize:
// each open file fills one block (growing from 64 KiB, so small files stay
// small), and at most 2 × Concurrency blocks are in flight with their
// compressed output. Each compressing goroutine also holds its encoder's
// tables (1 MiB at level 2, 16 MiB at level 9). With the defaults on two
// cores that is about 64 MiB plus 8 MiB per open file; when many partitions
// are open at once, a BlockSize of 2 MiB bounds memory for archives about 3%
// larger.
//
// # Encryption
//
// With Options.Password, files and the header are encrypted with 7-Zip's
// AES-256 coder (method 06F10701): AES-256-CBC, key from SHA-256 iterated
// 2^19 times (Options.KeyCycles) over a random 16-byte salt, the password in
// UTF-16LE and a counter; salt and a per-stream random IV are in the coder
// properties. Names, sizes and contents are all hidden. Passwords shorter than
// MinPasswordLength (10) characters are refused with ErrPasswordTooShort: the
// national observation service requires it on every sensitive export.
package sevenz
