// Package sevenz writes the 7z archives that carry observation extracts
// (CSV with WKT geometry) to their recipients, and checks them before they
// are staged. It owns the 7z container, the choice and tuning of coders,
// parallel compression and its memory (a Pool shared by the archives of one
// extraction, input spooled to disk), AES encryption of sensitive exports,
// and the checks: a structural one at disk speed (Check) and a full decode
// with an independent reader (Verify).
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
// PackFiles packs files and directories for the `sinp pack` command.
//
// # Checking archives
//
// Check reads an archive once, at disk speed, and checks the signature
// header's CRC, the header's CRC and structure, and the CRC32 of every
// packed stream, which the writer records in the header's pack info: every
// byte of the archive is covered, so a damaged, truncated or extended copy
// fails, naming the archive and the file whose stream is damaged. Verify
// reads the archive back with github.com/bodgit/sevenzip and checks every
// file's size and CRC32: it also catches an encoder that wrote a wrong
// stream, but decodes at 60-80 MB/s. Check every archive before staging it;
// Verify when the encoder changed, or a sample of archives.
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
// of bits saved, and by default each block refers to the block before it.
// On the platform's CSV it is faster than `7zz a -mx=1` and 17% smaller, and
// 1.22x the size of `7zz a -mx=5` at more than 30x its speed (figures in
// README.md). Deflate (klauspost/compress) is 2.5-4
// times faster again but 45-65% bigger than LZMA2 on the same CSV: useful
// only when CPU is the bottleneck. github.com/ulikunitz/xz was not used for
// writing: its encoder runs at 4 MB/s on this CSV, against 45 MB/s per core.
//
// # Parallelism and determinism
//
// Files are cut into blocks of Options.BlockSize bytes (8 MiB by default)
// compressed by Options.Concurrency goroutines (all cores by default), or by
// a Pool that several Writers share, so both independent files and a single
// large file use every core. An LZMA2 block may refer to the Options.Window
// bytes of its file before it (by default one block): it is compressed by
// an encoder whose match finder was fed those bytes, and its first chunk
// resets the coder's state but not the dictionary, which for the decoder
// holds the file decoded so far; the coder properties announce a dictionary
// of window + block. Blocks thus still compress in parallel, and an area's
// polygon repeated on F1's blurred rows is found from one block to the next
// (a third smaller F1 archives, README.md). With a negative Window each
// block starts with a dictionary reset, as 7-Zip's multithreaded LZMA2
// does. A Deflate block ends with a sync flush and uses the previous 32 KiB
// as its dictionary. Block boundaries and history depend only on the bytes
// written, so the archive is byte-for-byte the same for the same input and
// options whatever the scheduling, the Pool or SpoolInput. Encrypted
// archives differ between runs because their salt and IVs are random; a
// fixed Options.Rand makes them reproducible too.
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
// At most 2 × Concurrency blocks are in flight (queued, compressing, or
// compressed and waiting for an earlier block of their file); with a Pool
// the bound is the Pool's, across all its Writers. Each compressing
// goroutine holds its encoder's tables (1 MiB at level 2, 16 MiB at level 9)
// and, for a block read back from disk, window + block bytes; each block in
// flight holds its compressed output. These large buffers live outside the
// Go heap where the system allows (mmap): the collector's pacing (GOGC) does
// not double them, and pages never written are not resident.
//
// Without Options.SpoolInput each open file also holds its block (and a
// copy of its window) in memory, growing from 64 KiB so that small files
// stay small: about (open files + 2 × Concurrency) × (BlockSize + Window).
// With SpoolInput an open file holds at most 64 KiB; the rest of its block
// and the blocks later ones use as window wait in temporary files in
// Options.TempDir, read back when a goroutine takes the block. Memory then
// no longer depends on the number of open files nor on their size: 48 files
// of 40 MB written interleaved through a Pool of 2 peak at 68 MiB resident
// (README.md). Temporary files are removed as soon as they are read, and by
// Close in every case.
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
