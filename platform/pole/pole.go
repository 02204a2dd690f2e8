// Package pole names the SINP Occitanie taxonomic pôles: each reviews the
// F2 of its taxa, and gives its position on a structure's promotion.
package pole

import "slices"

// Codes are the pôles, in the order the platform shows them.
var Codes = []string{"flore", "invertebres", "mammiferes", "reptiles_amphibiens", "oiseaux", "poissons"}

// Valid says whether code is a pôle.
func Valid(code string) bool { return slices.Contains(Codes, code) }
