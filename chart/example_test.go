package chart_test

import (
	"html/template"
	"os"

	"github.com/guichet/guichet/chart"
)

// A chart goes in a page as it is: it is template.HTML, with every text in
// it escaped.
func Example() {
	page := template.Must(template.New("").Parse("<section>\n{{.}}</section>\n"))
	_ = page.Execute(os.Stdout, chart.HBars("Rappels <en attente>", []chart.Bar{
		{Label: "Santé", Value: 12},
		{Label: "Impôts & taxes", Value: 4},
	}, chart.Options{Unit: " min", Width: 480}))
	// Output:
	// <section>
	// <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 480 82" width="100%" role="img" aria-label="Rappels &lt;en attente&gt;" font-family="system-ui,sans-serif" font-size="12" fill="#222">
	// <title>Rappels &lt;en attente&gt;</title>
	// <desc>Santé: 12 min; Impôts &amp; taxes: 4 min</desc>
	// <text x="0" y="16" font-size="14" font-weight="bold">Rappels &lt;en attente&gt;</text>
	// <text x="102.8" y="42.4" text-anchor="end">Santé</text>
	// <rect x="108.8" y="30" width="316" height="16.8" fill="#0072B2"/>
	// <text x="428.8" y="42.4">12 min</text>
	// <text x="102.8" y="66.4" text-anchor="end">Impôts &amp; taxes</text>
	// <rect x="108.8" y="54" width="105.3" height="16.8" fill="#0072B2"/>
	// <text x="218.1" y="66.4">4 min</text>
	// </svg>
	// </section>
}
