package extraction

// Level is the effective diffusion level of an observation, on the
// SENSIBILITE scale: 0 precise, 1 commune, 2 10 km cell, 3 département,
// 4 no diffusion.
type Level int

const (
	Precise      Level = 0
	Commune      Level = 1
	Maille10     Level = 2
	Departement  Level = 3
	NoDiffusion  Level = 4
	privateDSPub       = "Pr"
)

// EffectiveLevel combines the sensitivity level with the producer's
// diffusion level of private data (DS_PUBLIQUE = Pr): the coarser of the
// two applies. An unknown or out-of-range sensitivity counts as no
// diffusion: when in doubt, nothing leaks.
//
// NIV_PRECIS 0 "standard" is, by the nomenclature's own definition,
// "diffusion standard : à la maille, à la ZNIEFF, à la commune, à l'espace
// protégé (statut par défaut)", and only 5 "précise" is "diffusion telle
// quelle". So a private record at the standard level, or with no level at
// all (the standard is the default status), is not diffused precisely: it
// is blurred to the commune, the finest of the objects the definition
// names (the level SENSIBILITE calls "commune ou ZNIEFF"). An unknown
// NIV_PRECIS code is not diffused. Public data ignore NIV_PRECIS: only
// private data may be blurred by their producer's wish (DS_PUBLIQUE's
// definition).
func EffectiveLevel(sensi string, dsPublique string, nivPrecis string) Level {
	l := NoDiffusion
	switch sensi {
	case "0", "":
		l = Precise
	case "1":
		l = Commune
	case "2":
		l = Maille10
	case "3":
		l = Departement
	}
	if dsPublique == privateDSPub {
		// NIV_PRECIS: 0 standard, 1 commune, 2 cell, 3 département, 4 none,
		// 5 precise.
		p := NoDiffusion
		switch nivPrecis {
		case "0", "", "1":
			p = Commune
		case "2":
			p = Maille10
		case "3":
			p = Departement
		case "5":
			p = Precise
		}
		l = max(l, p)
	}
	return l
}

// Placement says where an observation goes.
type Placement struct {
	// F1 holds the row; Blur is the level it is blurred to there (Precise:
	// not blurred).
	F1   bool
	Blur Level
	// F2 holds the row at full precision, in its pôle's deliverable.
	F2 bool
}

// Place applies DESIGN.md: non-sensitive rows go to F1 as they are;
// sensitive rows (levels 1–3) go to F1 blurred and, for requesters entitled
// to it, to F2; level 4 never appears in F1, only in F2 for the entitled.
func Place(l Level, f2Entitled bool) Placement {
	switch {
	case l == Precise:
		return Placement{F1: true}
	case l >= NoDiffusion:
		return Placement{F2: f2Entitled}
	default:
		return Placement{F1: true, Blur: l, F2: f2Entitled}
	}
}
