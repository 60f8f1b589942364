//go:build ignore

// gen_common writes common-passwords.txt: the passwords, and the words
// passwords are made of, that CheckPassword refuses. Every word here was
// written for this project (no published list was copied): what people in
// Cameroon and elsewhere reach for first — the words "password" in both
// languages, the service's own words, keyboard rows, counting, first
// names, family, faith, football, places, months, colours, animals —
// each also doubled and after the usual "my", "mon", "jaime", "ilove"…
// (CheckPassword itself refuses a word with digits and signs around it,
// Password2026!, so those are not listed). Run `go generate ./staff`.
package main

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strings"
)

// words are lower-case, in letters only: CheckPassword also refuses one
// of them with digits and signs around it.
var words = strings.Fields(`
password passwd motdepasse motdepass mdp secret secrets changeme changeit default
letmein welcome bienvenue bonjour bonsoir salut coucou hello hallo iloveyou iloveu jetaime
jetadore loveyou amour lamour monamour love lover loving trustno trustnoone whatever
nothing anything something everything azerty azertyuiop qwerty qwertyuiop qwertz
asdfgh asdfghjkl qsdfgh qsdfghjklm zxcvbn zxcvbnm wxcvbn qazwsx azqsdf abcdef abcdefgh
abcdefghij abcdefghijklmnopqrstuvwxyz alphabet admin administrator administrateur
admins root superuser sysadmin operator operateur operatrice supervisor superviseur
superviseuse manager gestionnaire agent agents console hotline guichet guichets
helpline numerovert support service services public publique mairie ministere
ministry gouvernement government etat state republique cameroun cameroon camer kamer
cameroonian camerounais camerounaise douala yaounde yaunde garoua bamenda bafoussam
maroua ngaoundere bertoua ebolowa buea limbe kribi kumba edea dschang nkongsamba
foumban mbalmayo sangmelima tiko bamileke bassa beti ewondo bulu duala fulfulde
mboa mbeng lionsindomptables indomptables indomptable lions lion mtn orange camtel
nexttel yoomee test tester testing test123 demo demonstration example exemple sample
temp temporary temporaire provisoire user utilisateur username login connexion
access acces entrer enter open ouvrir ouvre sesame master masterkey key clef cle
princess princesse prince king roi reine queen angel ange angels dragon monkey
shadow sunshine soleil lumiere etoile star stars moon lune sky ciel summer ete
winter hiver spring printemps autumn automne freedom liberte liberty peace paix
justice travail patrie unite progres football soccer foot baseball basketball
tennis boxing boxe champion champions winner gagnant victory victoire success
succes money argent cash riche rich dollar dollars francs cfa million millionaire
business affaires boss patron chef leader superman batman spiderman ironman
pokemon naruto goku mario zelda minecraft fortnite playstation xbox nintendo
computer ordinateur internet google facebook whatsapp instagram twitter tiktok
youtube samsung iphone android nokia tecno infinix itel huawei mobile telephone
phone portable jesus jesuschrist christ dieu godisgood godislove god lord seigneur
amen alleluia hallelujah blessed benediction grace faith foi hope espoir priere
church eglise bible allah allahuakbar bismillah inshallah mashallah mohamed
mohammed muhammad ahmed ahmadou amadou hamadou ibrahim issa moussa oumarou
abdoulaye aboubakar alhadji aissatou aicha fatima fatimatou hadidja mariam
mariama aminatou aminata hawa zenabou ramatou salamatou halima jean jeanne
jeanpierre jeanpaul jeanmarie marie mariepaule marieclaire marthe pierre paul
paulette joseph josephine emmanuel emmanuelle christian christiane christelle
christine samuel daniel danielle david michel michelle francois francoise jacques
alain eric patrick martin thomas nicolas andre andree bernard robert roger
richard charles henri louis lucien georges simon serge sylvie sylvain vincent
olivier laurent claude claudine pascal pascaline blaise brice cedric franck
fabrice herve yannick junior ulrich arnaud armand rodrigue landry boris steve
stephane stephanie sandrine sandra nadia nadine carine carole caroline cynthia
vanessa laetitia estelle esther ruth rachel rebecca sarah sara judith deborah
grace gracia prisca priscille linda brenda gloria victoire victor vivien
celestin clement achille hubert gilbert albert norbert rene rose rosine
mireille chantal solange yvonne yvette therese odile agnes monique dominique
jacqueline paulin martial marcel marc mathieu matthieu luc lucas jonathan
joel josue moise abraham isaac jacob elie noah noe adam eve mama maman papa
papi mami mamie bebe baby babygirl babyboy doudou chouchou loulou bibi bisous
cheri cherie darling honey sweet sweety sweetheart mylove monbebe family famille
enfants children friends amis ami amie copain copine frere soeur brother sister
barcelona barca realmadrid madrid chelsea arsenal liverpool manchester manutd
juventus milan inter bayern psg marseille olympique canon coton tonnerre
unionsportive messi ronaldo neymar mbappe etoo samueletoo drogba aboubakar
mbeumo onana song milla rogermilla janvier fevrier mars avril mai juin juillet
aout septembre octobre novembre decembre january february march april may june
july august september october november december lundi mardi mercredi jeudi
vendredi samedi dimanche monday tuesday wednesday thursday friday saturday sunday
noir blanc rouge bleu vert jaune orange violet rose black white red blue green
yellow purple pink silver gold golden diamond diamant chat chien cat dog tiger
tigre panther panthere eagle aigle elephant lionne cheval horse snake serpent
bonheur happy happiness joie smile sourire forever toujours always jamais
never life vie lavie beautiful belle beau jolie pretty cool super sexy hot
killer hunter sniper ninja warrior guerrier soldier soldat army police
gendarme docteur doctor medecin nurse infirmier infirmiere teacher enseignant
professeur student etudiant ecole school college lycee universite university
chocolat chocolate coffee cafe banane banana mango mangue ananas pineapple
plantain ndole eru achu koki miondo bobolo poulet chicken pizza burger
`)

// whole are passwords kept as they are: rows, counting, walks.
var whole = strings.Fields(`
0123456789 1234567890 12345678910 123456789012 1234567890123 0987654321 9876543210
1122334455 1234512345 1234554321 1212121212 1231231231 1357924680 0246813579
1qaz2wsx 1qaz2wsx3edc 1q2w3e4r 1q2w3e4r5t 1q2w3e4r5t6y 1a2z3e4r 1a2z3e4r5t
a1z2e3r4t5 a1b2c3d4e5 q1w2e3r4t5 zaq12wsx azerty123456 qwerty123456
qwertyuiopasdfghjkl azertyuiopqsdfghjklm poiuytreza poiuytrewq mlkjhgfdsq
lkjhgfdsa nbvcxw mnbvcxz azertyuiop123 qwertyuiop123 passw0rd p4ssw0rd
`)

func main() {
	set := map[string]bool{}
	for _, w := range words {
		set[w] = true
		set[w+w] = true
		for _, pre := range []string{"my", "mon", "ma", "jaime", "ilove", "jetaime", "the", "super"} {
			if p := pre + w; len(p) >= 10 {
				set[p] = true
			}
		}
	}
	for _, w := range whole {
		set[w] = true
	}
	list := make([]string, 0, len(set))
	for w := range set {
		list = append(list, w)
	}
	slices.Sort(list)
	f, err := os.Create("common-passwords.txt")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "# Written by gen_common.go (go generate ./staff): edit that file, not this one.")
	for _, p := range list {
		fmt.Fprintln(w, p)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
