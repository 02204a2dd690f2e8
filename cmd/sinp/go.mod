module sinp.occitanie.fr/cmd/sinp

go 1.26.0

require (
	sinp.occitanie.fr/observations v0.0.0
	sinp.occitanie.fr/platform v0.0.0
	sinp.occitanie.fr/proto v0.0.0
	sinp.occitanie.fr/services/delivery v0.0.0
	sinp.occitanie.fr/services/extractor v0.0.0
	sinp.occitanie.fr/services/feeds v0.0.0
	sinp.occitanie.fr/services/intake v0.0.0
	sinp.occitanie.fr/services/review v0.0.0
	sinp.occitanie.fr/sevenz v0.0.0
)

require gopkg.in/yaml.v3 v3.0.1 // indirect

replace sinp.occitanie.fr/platform => ../../platform

replace sinp.occitanie.fr/proto => ../../proto

replace sinp.occitanie.fr/observations => ../../observations

replace sinp.occitanie.fr/sevenz => ../../sevenz

replace sinp.occitanie.fr/services/intake => ../../services/intake

replace sinp.occitanie.fr/services/extractor => ../../services/extractor

replace sinp.occitanie.fr/services/review => ../../services/review

replace sinp.occitanie.fr/services/delivery => ../../services/delivery

replace sinp.occitanie.fr/services/feeds => ../../services/feeds
