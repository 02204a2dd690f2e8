package seed

import (
	"math/rand/v2"
	"strings"
)

// Word stock for generated names. Nothing here claims to be a real person,
// taxon or organisation.
var (
	lastNames = []string{"MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS", "MOREAU", "LAURENT",
		"SIMON", "MICHEL", "LEFEBVRE", "LEROY", "ROUX", "DAVID", "BERTRAND", "MOREL", "FOURNIER", "GIRARD",
		"BONNET", "DUPONT", "LAMBERT", "FONTAINE", "ROUSSEAU", "VINCENT", "MULLER", "LEFEVRE", "FAURE", "ANDRE",
		"MERCIER", "BLANC", "GUERIN", "BOYER", "GARNIER", "CHEVALIER", "FRANCOIS", "LEGRAND", "GAUTHIER", "GARCIA",
		"PERRIN", "ROBIN", "CLEMENT", "MORIN", "NICOLAS", "HENRY", "ROUSSEL", "MATHIEU", "GAUTIER", "MASSON",
		"MARCHAND", "DUVAL", "DENIS", "DUMONT", "MARIE", "LEMAIRE", "NOEL", "MEYER", "DUFOUR", "MEUNIER",
		"ESTEVE", "CASTEL", "PUJOL", "VIDAL", "CAZALS", "SALVAT", "BOUSQUET", "ROUQUETTE", "FABRE", "COMBES"}
	firstNames = []string{"Marie", "Jean", "Pierre", "Anne", "Michel", "Sophie", "Philippe", "Isabelle", "Alain", "Catherine",
		"Nicolas", "Claire", "Laurent", "Julie", "Olivier", "Camille", "Thomas", "Élodie", "Julien", "Céline",
		"Mathieu", "Aurélie", "Guillaume", "Emma", "Lucas", "Léa", "Hugo", "Chloé", "Antoine", "Manon",
		"Sébastien", "Pauline", "Vincent", "Laura", "Romain", "Sarah", "Maxime", "Margaux", "Benoît", "Inès"}
	epithets = []string{"vulgaris", "alpina", "montana", "sylvestris", "minor", "major", "europaea", "occitanica", "pyrenaica",
		"cebennensis", "palustris", "arvensis", "hispanica", "gallica", "aquatica", "rupestris", "tenuis", "elegans",
		"maculata", "nigra", "alba", "rubra", "viridis", "lutea", "hirsuta", "glabra", "media", "communis",
		"officinalis", "pratensis", "nemoralis", "campestris", "littoralis", "meridionalis", "australis", "borealis",
		"gracilis", "robusta", "pallida", "ornata", "cinerea", "fusca", "aurea", "caerulea", "serotina", "vernalis"}
	syllables = []string{"al", "bra", "car", "do", "eri", "fa", "gla", "he", "ily", "ju", "la", "mo", "ne", "or", "pa",
		"ro", "sa", "te", "ur", "va", "xe", "zo", "ca", "li", "mi", "no", "pe", "ri", "so", "tu", "be", "ga"}
	placeWords = []string{"Bois", "Mas", "Pech", "Puech", "Serre", "Combe", "Font", "Prat", "Roc", "Causse", "Plan", "Col",
		"Étang", "Ribes", "Cabane", "Moulin", "Pont", "Gourg", "Pla", "Lac", "Garrigue", "Crête", "Source", "Vallon"}
	placeNames = []string{"Haut", "Bas", "Grand", "Vieux", "Rouge", "Blanc", "Long", "Saint-Jean", "Sainte-Marie", "Saint-Pierre",
		"de la Croix", "de l'Ours", "des Fades", "du Loup", "des Aigles", "Nègre", "d'Amont", "d'Aval", "des Pins", "du Four"}
	organisations = []string{"Association naturaliste", "Conservatoire d'espaces naturels", "Conservatoire botanique",
		"Parc naturel régional", "Office de la biodiversité", "Bureau d'études Faune Flore", "Société entomologique",
		"Groupe ornithologique", "Groupe chiroptères", "Fédération de pêche", "Fédération des chasseurs",
		"Réserve naturelle", "Muséum d'histoire naturelle", "Laboratoire d'écologie", "Syndicat de rivière",
		"Observatoire de la faune", "Collectif herpétologique", "Société mycologique", "Communauté de communes", "Agence de l'eau"}
	comments = []string{"Observé en lisière", "Individu en chasse", "Au bord du ruisseau", "Dans une prairie de fauche",
		"Sur un muret de pierres sèches", "En vol vers le nord", "Sous une pierre", "Station connue", "Population importante",
		"Prospection ciblée", "Donnée historique", "Chant entendu à l'aube", "Milieu rocheux", "Dans la ripisylve"}
)

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// genusName builds a Latin-looking genus name.
func genusName(r *rand.Rand, suffix string) string {
	n := 2 + r.IntN(2)
	var b strings.Builder
	for range n {
		b.WriteString(pick(r, syllables))
	}
	return capitalise(b.String() + suffix)
}

func communeName(r *rand.Rand) string {
	switch r.IntN(4) {
	case 0:
		return "Saint-" + capitalise(pick(r, syllables)+pick(r, syllables)+"an")
	case 1:
		return capitalise(pick(r, syllables)+pick(r, syllables)+"ac") + "-sur-" + capitalise(pick(r, syllables)+"ne")
	default:
		return capitalise(pick(r, syllables) + pick(r, syllables) + pick(r, []string{"ac", "an", "ès", "argues", "ols", "ats", "ens"}))
	}
}
