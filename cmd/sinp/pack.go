package main

import (
	"context"
	"fmt"
	"io"

	"sinp.occitanie.fr/platform/cli"
	"sinp.occitanie.fr/sevenz"
)

func packCommand() *cli.Command {
	c := &cli.Command{
		Name:    "pack",
		Summary: "pack files and folders into a 7z archive with the platform's writer",
		Usage:   "sinp pack OUT.7z FILE... [--codec lzma2|deflate|copy] [--level N] [--password-file F] [--json]",
	}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		codecName := fs.String("codec", "lzma2", "lzma2, deflate or copy")
		level := fs.Int("level", 0, "1 (fastest) to 9 (smallest); 0: the codec's default")
		passwordFile := fs.String("password-file", "", "encrypt content and names with the password in this file (at least 10 characters)")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		pos, err := cli.Parse(fs, args)
		if err != nil {
			return err
		}
		if len(pos) < 2 {
			return cli.Usagef("pack needs the archive to write and at least one file")
		}
		codec, err := sevenz.ParseCodec(*codecName)
		if err != nil {
			return cli.Usagef("--codec: %v", err)
		}
		opts := sevenz.Options{Codec: codec, Level: *level}
		if *passwordFile != "" {
			if opts.Password, err = sevenz.PasswordFromFile(*passwordFile); err != nil {
				return cli.Usagef("--password-file: %v", err)
			}
		}
		sum, err := sevenz.PackFiles(ctx, pos[0], pos[1:], opts)
		if err != nil {
			return err
		}
		return e.Output(*asJSON).Result(sum, func(w io.Writer) { fmt.Fprintf(w, "%s: %s\n", pos[0], sum) })
	}
	return c
}
