package extraction

// Area kinds, as in oc_dat.v_extract_area.
const (
	KindCommune     = "commune"
	KindMaille10    = "maille10"
	KindDepartement = "departement"
	// KindEspaceNaturel is a natural area (ZNIEFF, Natura 2000, reserve):
	// it selects observations but never blurs them.
	KindEspaceNaturel = "espace_naturel"
)

// AreaRef names a geographic object.
type AreaRef struct {
	Kind string
	Code string
}

// Containment lists the objects of each kind an observation lies in (the
// attachment arrays of the view).
type Containment struct {
	Communes     []string
	Mailles10    []string
	Departements []string
}

// BlurObject returns the object whose geometry replaces the observation's
// in F1: the commune, 10 km cell or département of its level, or, when the
// observation spans several objects of that kind, the next coarser kind at
// which it lies in one object only. ok is false when there is none (the
// observation spans several départements): the row is then withheld from F1.
func BlurObject(l Level, c Containment) (AreaRef, bool) {
	if l <= Precise || l >= NoDiffusion {
		return AreaRef{}, false
	}
	if l <= Commune && len(c.Communes) == 1 {
		return AreaRef{KindCommune, c.Communes[0]}, true
	}
	if l <= Maille10 && len(c.Mailles10) == 1 {
		return AreaRef{KindMaille10, c.Mailles10[0]}, true
	}
	if len(c.Departements) == 1 {
		return AreaRef{KindDepartement, c.Departements[0]}, true
	}
	return AreaRef{}, false
}

// MostPrecise returns the object whose geometry an attached observation (no
// geometry of its own) carries under the most_precise policy: the commune,
// else the 10 km cell, else the département, at the first of these levels
// where its attachment is unique.
func MostPrecise(c Containment) (AreaRef, bool) {
	return BlurObject(Commune, c)
}

// Codes returns the attachment codes a blurred row may show: those of the
// blurring object and of the coarser kinds that contain it for sure. A cell
// is not inside one commune, and a commune's cell would locate the
// observation more precisely than the commune: it is dropped. cellIn are
// the départements that cover a blurring cell whole: one gives the row its
// département; a cell across a border gives none (naming one would say on
// which side of the border the observation lies).
func (a AreaRef) Codes(c Containment, cellIn []string) Containment {
	switch a.Kind {
	case KindCommune:
		return Containment{Communes: []string{a.Code}, Departements: c.Departements}
	case KindMaille10:
		if len(cellIn) == 1 {
			return Containment{Mailles10: []string{a.Code}, Departements: cellIn}
		}
		return Containment{Mailles10: []string{a.Code}}
	case KindDepartement:
		return Containment{Departements: []string{a.Code}}
	}
	return Containment{}
}
