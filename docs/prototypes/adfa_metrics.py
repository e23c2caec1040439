# The ROC figures every issue-16 prototype prints, as src/eval/roc.ts computes them: AUC (Mann-Whitney with
# average ranks for ties), the lowest false-alarm rate detecting at least 90%, the best detection at no more
# than 1% false alarms. Shared by hmm.py, one-class-svm.py and separability.py (imported from this folder).
import numpy as np

def auc(neg,pos):
    s=np.concatenate([neg,pos]); order=np.argsort(s,kind='stable'); ranks=np.empty(len(s)); i=0; ss=s[order]
    while i<len(s):
        j=i
        while j+1<len(s) and ss[j+1]==ss[i]: j+=1
        ranks[order[i:j+1]]=(i+j)/2+1; i=j+1
    rp=ranks[len(neg):].sum(); return (rp-len(pos)*(len(pos)+1)/2)/(len(pos)*len(neg))
def roc_summary(neg,pos):
    """src/eval/roc.ts summarizeRoc: lowest false-alarm rate detecting >= 90%; best detection at <= 1% false alarms."""
    fa=de=0; f90=1.0; d1=0.0
    lab=sorted([(s,0) for s in neg]+[(s,1) for s in pos],key=lambda x:-x[0]); i=0
    while i<len(lab):
        t=lab[i][0]
        while i<len(lab) and lab[i][0]==t:
            if lab[i][1]: de+=1
            else: fa+=1
            i+=1
        fpr=fa/len(neg); tpr=de/len(pos)
        if tpr>=0.9: f90=min(f90,fpr)
        if fpr<=0.01: d1=max(d1,tpr)
    return f90,d1
def line(neg,pos):
    neg=np.asarray(neg); pos=np.asarray(pos); f90,d1=roc_summary(neg,pos)
    return f'AUC {auc(neg,pos):.3f}  FA@90%DR {f90*100:.1f}%  DR@1%FA {d1*100:.1f}%'
