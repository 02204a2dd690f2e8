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
// diffusion level of private data (DS_PUBLIQUE = Pr, NIV_PRECIS 1–4): the
// coarser of the two applies. An unknown or out-of-range sensitivity counts
// as no diffusion: when in doubt, nothing leaks.
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
		var p Level
		switch nivPrecis {
		case "1":
			p = Commune
		case "2":
			p = Maille10
		case "3":
			p = Departement
		case "4":
			p = NoDiffusion
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
